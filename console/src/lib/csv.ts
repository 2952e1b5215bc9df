/**
 * The items of a bulk job pasted as `userId,amount` lines (RFC 4180 fields). The history export is
 * the gateway's (`adjustmentsCsv`), quoted there; the console only counts its records.
 */

export interface BulkItem {
  userId: string;
  amount: number;
}

export interface LineError {
  /** 1-based, as an editor counts lines. */
  line: number;
  message: string;
}

export interface ParsedItems {
  /** With the line each came from, to name it if the gateway refuses it. */
  items: Array<BulkItem & { line: number }>;
  errors: LineError[];
}

/** The gateway's own bounds (README "Inputs"), checked here so a bad line is named before anything is created. */
const MAX_AMOUNT = 2_000_000_000;
const MAX_USER_ID = 1500;
export const MAX_ITEMS = 100_000;

/** Splits one CSV line into fields; double-quoted fields may hold commas and doubled quotes. */
export function splitCsvLine(line: string): string[] | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return { error: 'a quoted field is not closed' };
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') return { error: 'text after a closing quote' };
    } else {
      const end = line.indexOf(',', i);
      field = end === -1 ? line.slice(i) : line.slice(i, end);
      i = end === -1 ? line.length : end;
      if (field.includes('"')) return { error: 'a quote inside an unquoted field' };
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function checkUserId(userId: string): string | undefined {
  if (userId === '') return 'userId is empty';
  if (userId.length > MAX_USER_ID) return `userId is longer than ${MAX_USER_ID} characters`;
  if (userId === '.' || userId === '..') return 'userId cannot be "." or ".."';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(userId)) return 'userId holds a control character';
  return undefined;
}

function checkAmount(text: string): number | string {
  if (!/^[+-]?\d+$/.test(text)) return `amount "${text}" is not a whole number`;
  const amount = Number(text);
  if (amount === 0) return 'amount is 0 (amount_must_be_nonzero)';
  if (Math.abs(amount) > MAX_AMOUNT) return `amount is beyond ${MAX_AMOUNT.toLocaleString('en')} either way`;
  return amount;
}

/**
 * Pasted `userId,amount` lines: blank lines are skipped, a first line `userId,amount` is a header. Every
 * bad line is reported with its number; the items are only usable when there is no error at all.
 */
export function parseBulkItems(text: string): ParsedItems {
  const items: ParsedItems['items'] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r\n|\n|\r/);
  let first = true;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const isFirst = first;
    first = false;
    const fields = splitCsvLine(raw);
    if (!Array.isArray(fields)) {
      errors.push({ line, message: fields.error });
      return;
    }
    if (isFirst && fields.length === 2 && fields[0]!.trim().toLowerCase() === 'userid' && fields[1]!.trim().toLowerCase() === 'amount') return;
    if (fields.length !== 2) {
      errors.push({ line, message: `expected 2 fields (userId,amount), found ${fields.length}` });
      return;
    }
    const userId = fields[0]!.trim();
    const userError = checkUserId(userId);
    if (userError) {
      errors.push({ line, message: userError });
      return;
    }
    const amount = checkAmount(fields[1]!.trim());
    if (typeof amount === 'string') {
      errors.push({ line, message: amount });
      return;
    }
    const earlier = seen.get(userId);
    if (earlier !== undefined) {
      errors.push({ line, message: `${userId} is already on line ${earlier} (a customer at most once per job)` });
      return;
    }
    seen.set(userId, line);
    items.push({ userId, amount, line });
  });
  if (items.length === 0 && errors.length === 0) errors.push({ line: 1, message: 'no items: paste one userId,amount line per customer' });
  if (items.length > MAX_ITEMS) errors.push({ line: lines.length, message: `${items.length} items: a job holds at most ${MAX_ITEMS.toLocaleString('en')}` });
  return { items: errors.length === 0 ? items : [], errors };
}

/**
 * The data records of a CSV document with a header row, as RFC 4180 delimits them: a line break inside
 * a quoted field (a reason may span lines) is part of that field, not the end of a record.
 */
export function csvRecordCount(text: string): number {
  let records = 0;
  let quoted = false;
  let empty = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    if (!quoted && char === '\n') {
      if (!empty) records += 1;
      empty = true;
    } else if (char !== '\r' || quoted) {
      empty = false;
    }
  }
  if (!empty) records += 1;
  return Math.max(0, records - 1);
}
