import { describe, expect, it } from 'vitest';
import { csvRecordCount, parseBulkItems, splitCsvLine } from './csv';

describe('parseBulkItems', () => {
  it('reads userId,amount lines, skipping a header and blank lines', () => {
    expect(parseBulkItems('userId,amount\nuser_a,25\n\n user_b , -10 \r\nuser_c,+3\n')).toEqual({
      items: [
        { userId: 'user_a', amount: 25, line: 2 },
        { userId: 'user_b', amount: -10, line: 4 },
        { userId: 'user_c', amount: 3, line: 5 },
      ],
      errors: [],
    });
  });

  it('reports every bad line with its number and gives no items', () => {
    const text = ['user_a,25', 'user_b', 'user_c,0', 'user_d,1.5', 'user_e,2000000001', ',4', 'user_a,7', 'user_f,5,extra', '..,3', 'user_g,abc', 'user_h,9'].join('\n');
    expect(parseBulkItems(text)).toEqual({
      items: [],
      errors: [
        { line: 2, message: 'expected 2 fields (userId,amount), found 1' },
        { line: 3, message: 'amount is 0 (amount_must_be_nonzero)' },
        { line: 4, message: 'amount "1.5" is not a whole number' },
        { line: 5, message: 'amount is beyond 2,000,000,000 either way' },
        { line: 6, message: 'userId is empty' },
        { line: 7, message: 'user_a is already on line 1 (a customer at most once per job)' },
        { line: 8, message: 'expected 2 fields (userId,amount), found 3' },
        { line: 9, message: 'userId cannot be "." or ".."' },
        { line: 10, message: 'amount "abc" is not a whole number' },
      ],
    });
  });

  it('treats a header only on the first line; later it is a bad line', () => {
    expect(parseBulkItems('user_a,1\nuserId,amount').errors).toEqual([{ line: 2, message: 'amount "amount" is not a whole number' }]);
  });

  it('accepts quoted user ids holding commas and quotes', () => {
    expect(parseBulkItems('"user,1",5\n"say ""hi""",6').items).toEqual([
      { userId: 'user,1', amount: 5, line: 1 },
      { userId: 'say "hi"', amount: 6, line: 2 },
    ]);
  });

  it('refuses control characters and an empty paste', () => {
    expect(parseBulkItems('user\u0007x,5').errors).toEqual([{ line: 1, message: 'userId holds a control character' }]);
    expect(parseBulkItems('\n  \n').errors).toEqual([{ line: 1, message: 'no items: paste one userId,amount line per customer' }]);
  });

  it('refuses more than 100,000 items', () => {
    const text = Array.from({ length: 100_001 }, (_, i) => `u${i},1`).join('\n');
    expect(parseBulkItems(text).errors).toEqual([{ line: 100_001, message: '100001 items: a job holds at most 100,000' }]);
  });
});

describe('splitCsvLine', () => {
  it('names malformed quoting', () => {
    expect(splitCsvLine('"open,5')).toEqual({ error: 'a quoted field is not closed' });
    expect(splitCsvLine('"a"b,5')).toEqual({ error: 'text after a closing quote' });
    expect(splitCsvLine('a"b,5')).toEqual({ error: 'a quote inside an unquoted field' });
    expect(splitCsvLine('a,,b')).toEqual(['a', '', 'b']);
  });
});

describe('csvRecordCount', () => {
  it('counts the records after the header, a line break inside quotes included in its field', () => {
    expect(csvRecordCount('id,reason\r\n')).toBe(0);
    expect(csvRecordCount('')).toBe(0);
    expect(csvRecordCount('id,reason\r\na,one\r\nb,"two, ""quoted""\r\nlines"\r\nc,three\r\n')).toBe(3);
    expect(csvRecordCount('id,reason\r\na,one\r\nb,"x\ny"')).toBe(2);
  });
});
