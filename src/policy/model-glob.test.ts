import { describe, expect, it } from 'vitest';
import { globPattern } from './model-glob.js';

describe('globPattern', () => {
  it('treats * as any run of characters, matches in any case, and nothing else as special', () => {
    expect(globPattern('gpt-*').test('GPT-4o')).toBe(true);
    expect(globPattern('gpt-*').test('my-gpt-4o')).toBe(false);
    expect(globPattern('llama-3.1-*b').test('llama-3.1-70b')).toBe(true);
    expect(globPattern('llama-3.1-*b').test('llama-301-70b')).toBe(false);
    expect(globPattern('a+b(c)').test('a+b(c)')).toBe(true);
  });
});
