import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { interpolate, interpolateDocument } from './interpolate.js';

const env = { HOME_DIR: '/home/ada', EMPTY: '', SECRET: 's3cr3t-value' };

function value(text: string): string {
  const result = interpolate(text, env);
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

function failure(text: string): string {
  const result = interpolate(text, env);
  if (result.ok) throw new Error(`expected ${text} to fail`);
  return result.message;
}

describe('interpolate', () => {
  it('leaves text without references unchanged, including lone dollars', () => {
    expect(value('plain')).toBe('plain');
    expect(value('costs $5 or $$')).toBe('costs $5 or $$');
    expect(value('')).toBe('');
  });

  it('replaces ${NAME} with the variable, anywhere in the text and more than once', () => {
    expect(value('${HOME_DIR}')).toBe('/home/ada');
    expect(value('${HOME_DIR}/ledger/${HOME_DIR}')).toBe('/home/ada/ledger//home/ada');
  });

  it('uses the default of ${NAME:-default} when the variable is unset or empty', () => {
    expect(value('${MISSING:-fallback}')).toBe('fallback');
    expect(value('${EMPTY:-fallback}')).toBe('fallback');
    expect(value('${HOME_DIR:-fallback}')).toBe('/home/ada');
    expect(value('${MISSING:-}')).toBe('');
    expect(value('${MISSING:-a:b-c d}')).toBe('a:b-c d');
  });

  it('keeps an empty variable empty when no default is given', () => {
    expect(value('[${EMPTY}]')).toBe('[]');
  });

  it('turns $${ into a literal ${ without interpolating', () => {
    expect(value('$${HOME_DIR}')).toBe('${HOME_DIR}');
    expect(value('$${MISSING}')).toBe('${MISSING}');
    expect(value('$${HOME_DIR} is ${HOME_DIR}')).toBe('${HOME_DIR} is /home/ada');
  });

  it('fails on an unset variable without default, naming the variable', () => {
    const message = failure('${MISSING}/x');
    expect(message).toContain('MISSING');
    expect(message).toContain('not set');
    expect(message).toContain('${MISSING:-value}');
  });

  it('fails on malformed references instead of passing them through', () => {
    expect(failure('${HOME_DIR')).toMatch(/without a closing/);
    expect(failure('${}')).toMatch(/malformed/);
    expect(failure('${1ABC}')).toMatch(/malformed/);
    expect(failure('${A-B}')).toMatch(/malformed/);
    expect(failure('${A:=b}')).toMatch(/malformed/);
  });

  it('never puts a variable value into a message', () => {
    expect(failure('${SECRET}${NOPE}')).not.toContain('s3cr3t');
  });
});

describe('interpolateDocument', () => {
  function run(yaml: string, vars: NodeJS.ProcessEnv) {
    const doc = parseDocument(yaml);
    const issues = interpolateDocument(doc, vars);
    return { value: doc.toJS() as unknown, issues };
  }

  it('interpolates values in mappings and lists, at any depth', () => {
    // Inside [...] or {...} a bare ${ would be YAML flow syntax, so there references are quoted.
    const { value: v, issues } = run('a:\n  b: ${X}\n  c:\n    - x-${X}\n    - ["${X}"]\n', { X: 'y' });
    expect(issues).toEqual([]);
    expect(v).toEqual({ a: { b: 'y', c: ['x-y', ['y']] } });
  });

  it('does not interpolate keys', () => {
    expect(run('${X}: 1\n', { X: 'y' }).value).toEqual({ '${X}': 1 });
  });

  it('types an unquoted value after substitution, as YAML would; a quoted one stays a string', () => {
    const { value: v } = run('n: ${N:-2048}\nf: ${F}\nb: ${B}\nq: "${N:-2048}"\ns: ${N:-2048}ms\n', { F: '1.5', B: 'true' });
    expect(v).toEqual({ n: 2048, f: 1.5, b: true, q: '2048', s: '2048ms' });
  });

  it('reports every failed reference with the path where it was used', () => {
    const { issues } = run('store:\n  path: ${A}\nlist:\n  - ok\n  - ${B}\n', {});
    expect(issues.map((i) => i.path)).toEqual([
      ['store', 'path'],
      ['list', 1],
    ]);
    expect(issues[0]?.message).toContain('A');
    expect(issues[1]?.message).toContain('B');
  });
});
