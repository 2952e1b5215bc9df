import type { AdjustmentRecord } from './adjustment.repository';
import { shownStatus } from './record-model';

/** The columns of a history export, in order: what the console's History table shows, and the ids to trace a row. */
export const HISTORY_CSV_COLUMNS = [
  'id',
  'createdAt',
  'settledAt',
  'userId',
  'currency',
  'amount',
  'balance',
  'status',
  'errorCode',
  'reason',
  'actorName',
  'actorRole',
  'actorOperatorId',
  'onBehalfOf',
  'approvedByName',
  'approvedByRole',
  'reverses',
  'reversedBy',
  'bulkAdjustmentId',
  'idempotencyKey',
] as const;

type Cell = { text: string | null } | { number: number | null } | { time: Date | null };

/**
 * A cell a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @ first, also after blanks
 * (which spreadsheets skip) and in their full-width forms (which CJK-locale Excel reads as the ASCII ones),
 * or a tab, CR, LF or NUL first.
 */
const FORMULA_START = /^[\s\0]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n\0]/;

/**
 * One CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote, CR or LF, quotes doubled. A text
 * cell that a spreadsheet would take for a formula gets a leading `'`; numbers and timestamps never do (a
 * negative amount stays a number).
 */
export function csvField(cell: Cell): string {
  let value: string;
  if ('text' in cell) value = cell.text === null ? '' : FORMULA_START.test(cell.text) ? `'${cell.text}` : cell.text;
  else if ('number' in cell) value = cell.number === null ? '' : String(cell.number);
  else value = cell.time === null ? '' : cell.time.toISOString();
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record's line, CRLF-terminated as RFC 4180 has it. */
export function historyCsvLine(record: AdjustmentRecord, now: Date): string {
  const cells: Cell[] = [
    { text: record.id },
    { time: record.createdAt },
    { time: record.settledAt },
    { text: record.userId },
    { text: record.currency },
    { number: record.amount },
    { number: record.balance },
    { text: shownStatus(record, now) },
    { text: record.errorCode },
    { text: record.reason },
    { text: record.actorName },
    { text: record.actorRole },
    { text: record.actorOperatorId },
    { text: record.actorOnBehalfOf },
    { text: record.approvedByName },
    { text: record.approvedByRole },
    { text: record.reversesId },
    { text: record.reversedById },
    { text: record.bulkAdjustmentId },
    { text: record.idempotencyKey },
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

export const HISTORY_CSV_HEADER = `${HISTORY_CSV_COLUMNS.join(',')}\r\n`;
