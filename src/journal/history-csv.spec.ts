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
    [{ number: -5 }, '-5'],
    [{ number: 0 }, '0'],
    [{ number: null }, ''],
    [{ time: new Date('2026-01-02T03:04:05.678Z') }, '2026-01-02T03:04:05.678Z'],
    [{ time: null }, ''],
  ])('writes %j as %j', (cell, expected) => {
    expect(csvField(cell)).toBe(expected);
  });
});
