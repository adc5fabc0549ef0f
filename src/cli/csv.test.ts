import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, CSV_HEADER, csvField, csvRow } from './csv.js';
import type { Envelope } from '../record/types.js';

describe('CSV export format', () => {
  it.each<[string | number | boolean | undefined, string]>([
    [undefined, ''],
    ['', ''],
    ['plain', 'plain'],
    [42, '42'],
    [-1.5, '-1.5'],
    [true, 'true'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\ronly', '"cr\ronly"'],
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@import', "'@import"],
    ['\tlead', "'\tlead"],
    ['=a,"b"', `"'=a,""b"""`],
  ])('writes %j as %j (RFC 4180 quoting, formulas defused)', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('has one cell per column and ends records with CRLF', () => {
    const envelope = {
      v: 1,
      id: 'id-1',
      ts: '2026-01-01T00:00:00.000Z',
      kind: 'llm.call',
      traceId: 't',
      requestId: 'r',
      safety: { detectors: ['email', 'card'] },
      metadata: { a: 1 },
    } as Envelope;
    const row = csvRow(envelope, 7);
    expect(row.endsWith('\r\n')).toBe(true);
    expect(CSV_HEADER.split(',')).toHaveLength(CSV_COLUMNS.length);
    const cells = row.slice(0, -2).split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    expect(cells).toHaveLength(CSV_COLUMNS.length);
    const cell = (name: string) => cells[CSV_COLUMNS.findIndex(([n]) => n === name)];
    expect([cell('index'), cell('id'), cell('safety_detectors'), cell('metadata'), cell('model')]).toEqual(['7', 'id-1', 'email;card', '"{""a"":1}"', '']);
  });
});
