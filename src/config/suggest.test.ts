import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['path', 'path', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['pth', 'path', 1],
    ['paths', 'path', 1],
    ['pant', 'path', 2],
    ['kitten', 'sitting', 3],
  ])('counts insertions, deletions and substitutions: %s → %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it('counts a swap of neighbouring characters as one edit', () => {
    expect(editDistance('paht', 'path')).toBe(1);
    expect(editDistance('include_mesasges', 'include_messages')).toBe(1);
  });

  it('is symmetric', () => {
    expect(editDistance('store', 'sotre')).toBe(editDistance('sotre', 'store'));
    expect(editDistance('max_batch', 'max_wait_ms')).toBe(editDistance('max_wait_ms', 'max_batch'));
  });
});

describe('suggest', () => {
  const storeKeys = ['type', 'path', 'max_file_bytes'];

  it('returns the nearest candidate for a typo', () => {
    expect(suggest('pth', storeKeys)).toBe('path');
    expect(suggest('tpye', storeKeys)).toBe('type');
    expect(suggest('max_file_byte', storeKeys)).toBe('max_file_bytes');
  });

  it('finds snake_case names from camelCase, kebab-case or upper case spellings', () => {
    expect(suggest('maxFileBytes', storeKeys)).toBe('max_file_bytes');
    expect(suggest('max-file-bytes', storeKeys)).toBe('max_file_bytes');
    expect(suggest('PATH', storeKeys)).toBe('path');
  });

  it('returns nothing when no candidate is plausibly meant', () => {
    expect(suggest('retention', storeKeys)).toBeUndefined();
    expect(suggest('xyz', storeKeys)).toBeUndefined();
    expect(suggest('path', [])).toBeUndefined();
  });

  it('allows more edits for longer names: about one per three characters', () => {
    expect(suggest('checkpoint_intrval', ['checkpoint_interval_ms'])).toBe('checkpoint_interval_ms');
    expect(suggest('ab', ['cd'])).toBeUndefined();
  });

  it('prefers the closest candidate, then the earliest', () => {
    expect(suggest('max_wait', ['max_batch', 'max_wait_ms'])).toBe('max_wait_ms');
    expect(suggest('bat', ['cat', 'hat'])).toBe('cat');
  });
});
