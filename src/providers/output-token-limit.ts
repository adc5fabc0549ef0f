import { countAt, isObject } from './json-fields.js';
import type { OutputTokenLimit } from './types.js';

/**
 * The output cap of a format that names it in one or more request fields, in order of preference.
 * Read: the smallest cap any of them sets (the upstream honours the tightest). Write: to every
 * field the client filled, so no looser one is left behind; when none is filled, to the first,
 * the format's current name for it. A field holding null or no value counts as unset.
 */
export function outputTokenFields(...fields: [string, ...string[]]): OutputTokenLimit {
  return {
    read(body) {
      const caps = fields.map((field) => countAt(body, field)).filter((cap): cap is number => cap !== undefined);
      return caps.length > 0 ? Math.min(...caps) : undefined;
    },
    write(body, limit) {
      if (!isObject(body)) return;
      const filled = fields.filter((field) => body[field] !== undefined && body[field] !== null);
      for (const field of filled.length > 0 ? filled : [fields[0]]) body[field] = limit;
    },
  };
}

/** For a format without an output cap (embeddings): nothing to read, nothing to write. */
export const NO_OUTPUT_TOKEN_LIMIT: OutputTokenLimit = {
  read: () => undefined,
  write: () => undefined,
};
