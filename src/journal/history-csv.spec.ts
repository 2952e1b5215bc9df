import { csvField } from './history-csv';

describe('csvField', () => {
  it.each([
    [{ text: 'plain' }, 'plain'],
    [{ text: '' }, ''],
    [{ text: null }, ''],
    [{ text: 'a,b' }, '"a,b"'],
    [{ text: 'say "hi"' }, '"say ""hi"""'],
    [{ text: 'one\ntwo' }, '"one\ntwo"'],
    [{ text: 'one\r\ntwo' }, '"one\r\ntwo"'],
    [{ text: '=1+1' }, "'=1+1"],
    [{ text: '+1' }, "'+1"],
    [{ text: '-1' }, "'-1"],
    [{ text: '@SUM(A1)' }, "'@SUM(A1)"],
    [{ text: '\tcmd' }, "'\tcmd"],
    [{ text: '\rcmd' }, `"'\rcmd"`],
    [{ text: '=HYPERLINK("x","y")' }, `"'=HYPERLINK(""x"",""y"")"`],
    [{ text: 'a=1' }, 'a=1'],
    // Spreadsheets skip leading blanks before a formula, and CJK-locale Excel takes the full-width signs for =, +, - and @.
    [{ text: ' =1+1' }, "' =1+1"],
    [{ text: '\u00a0\u3000@SUM(A1)' }, "'\u00a0\u3000@SUM(A1)"],
    [{ text: '\uff1d1+1' }, "'\uff1d1+1"],
    [{ text: '\uff0b1' }, "'\uff0b1"],
    [{ text: '\uff0d1' }, "'\uff0d1"],
    [{ text: '\uff20SUM(A1)' }, "'\uff20SUM(A1)"],
    [{ text: '\n=1+1' }, `"'\n=1+1"`],
    [{ text: '\0=1+1' }, "'\0=1+1"],
    [{ text: 'a b' }, 'a b'],
    [{ number: -5 }, '-5'],
    [{ number: 0 }, '0'],
    [{ number: null }, ''],
    [{ time: new Date('2026-01-02T03:04:05.678Z') }, '2026-01-02T03:04:05.678Z'],
    [{ time: null }, ''],
  ])('writes %j as %j', (cell, expected) => {
    expect(csvField(cell)).toBe(expected);
  });
});
