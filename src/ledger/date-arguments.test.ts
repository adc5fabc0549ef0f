import { describe, expect, it } from 'vitest';
import { DateArgumentError, parseDateArgument } from './date-arguments.js';

const now = new Date('2026-03-10T12:00:00.000Z');
const parse = (value: string) => parseDateArgument(value, '--since', now);

describe('parseDateArgument', () => {
  it('reads relative ages as that long before now', () => {
    expect(parse('30s')).toBe('2026-03-10T11:59:30.000Z');
    expect(parse('15m')).toBe('2026-03-10T11:45:00.000Z');
    expect(parse('24h')).toBe('2026-03-09T12:00:00.000Z');
    expect(parse('7d')).toBe('2026-03-03T12:00:00.000Z');
    expect(parse('2w')).toBe('2026-02-24T12:00:00.000Z');
  });

  it('normalises ISO 8601 dates and times to UTC with milliseconds and Z, as envelopes store them', () => {
    expect(parse('2026-01-31')).toBe('2026-01-31T00:00:00.000Z');
    expect(parse('2026-01-31T09:30Z')).toBe('2026-01-31T09:30:00.000Z');
    expect(parse('2026-01-31T09:30:15Z')).toBe('2026-01-31T09:30:15.000Z');
    expect(parse('2026-01-31T09:30:15.5Z')).toBe('2026-01-31T09:30:15.500Z');
    expect(parse('2026-01-31T09:30:15.123456Z')).toBe('2026-01-31T09:30:15.123Z');
    expect(parse('2026-01-31T09:30:00+02:00')).toBe('2026-01-31T07:30:00.000Z');
    expect(parse(' 2026-01-31T09:30:00z ')).toBe('2026-01-31T09:30:00.000Z');
  });

  it.each([
    'yesterday',
    '',
    '7',
    '7y',
    '-7d',
    '2026-02-30',
    '2026-13-01',
    '2026-01-31T09:30:00',
    '2026-01-31T24:00:00Z',
    '2026-01-31T09:60Z',
    '31/01/2026',
    '1969-12-31',
  ])('refuses %j, naming the argument and the accepted forms', (value) => {
    expect(() => parse(value)).toThrow(DateArgumentError);
    expect(() => parse(value)).toThrow(/^--since ".*" is not a date: use an ISO 8601 date or time in UTC .* or a relative age \(30s, 15m, 24h, 7d, 2w\)$/);
  });

  it('cuts a very long value short in the message', () => {
    expect(() => parse('x'.repeat(500))).toThrow(/"x{40}\.\.\."/);
  });
});
