import type * as z from 'zod';
import { formatPath } from './errors.js';
import type { PathIssue } from './interpolate.js';
import { suggest } from './suggest.js';

export interface DescribedIssue extends PathIssue {
  /** The problem is the key itself (unknown), not its value: point at the key's line. */
  atKey?: boolean;
}

// Key names that suggest their value is a secret: such values are never repeated in a message.
// (`url` is the store's connection URL, which may carry a password.)
const SECRET_NAME = /key|secret|token|password|^url$/i;

function isSecretPath(path: readonly (string | number)[]): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_NAME.test(segment));
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** What was found, as the user would recognise it from the file; secrets by type only. */
function found(value: unknown, secret: boolean): string {
  if (secret && value !== null && typeof value !== 'object') return `${kindOf(value)} (value not shown)`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return kindOf(value);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

type AnyDef = {
  type: string;
  in?: z.ZodType;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
};

/** Looks through defaults, optionals and transforms to the schema that checks the input. */
function unwrap(schema: z.ZodType): z.ZodType {
  for (;;) {
    const def = schema.def as unknown as AnyDef;
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) return schema;
    schema = inner;
  }
}

/**
 * A discriminated union's option for the value found in the input (a policy's `type`), so an
 * unknown key inside it is compared with that option's keys only.
 */
function chooseOption(def: AnyDef, value: unknown): z.ZodType | undefined {
  if (!def.options || def.discriminator === undefined || typeof value !== 'object' || value === null) return undefined;
  const tag = (value as Record<string, unknown>)[def.discriminator];
  return def.options.find((option) => {
    const literal = (unwrap(option).def as unknown as AnyDef).shape?.[def.discriminator!];
    return literal !== undefined && ((unwrap(literal).def as unknown as AnyDef).values ?? []).includes(tag);
  });
}

/** The keys valid at `path`: the siblings an unknown key there may have been meant as. */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[], input?: unknown): string[] {
  let node = unwrap(schema);
  let value = input;
  for (const segment of [...path, undefined]) {
    const chosen = chooseOption(node.def as unknown as AnyDef, value);
    if (chosen) node = unwrap(chosen);
    if (segment === undefined) break;
    const def = node.def as unknown as AnyDef;
    // A number indexes a list: its items share one schema (capture.pii.custom[2].pattren).
    const child = typeof segment === 'number' ? def.element : def.shape?.[String(segment)];
    if (!child) return [];
    node = unwrap(child);
    value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[segment] : undefined;
  }
  return Object.keys((node.def as unknown as AnyDef).shape ?? {});
}

function limitPredicate(issue: { origin: string; inclusive?: boolean }, bound: number | bigint, direction: 'least' | 'most'): string {
  if (issue.origin === 'string' && direction === 'least' && Number(bound) === 1) return 'must not be empty';
  const unit = issue.origin === 'string' ? ' characters' : '';
  if (issue.inclusive === false) return `must be ${direction === 'least' ? 'greater' : 'less'} than ${bound}${unit}`;
  return `must be at ${direction} ${bound}${unit}`;
}

/**
 * Turns zod's issues into sentences that name the path, what is allowed and what was found.
 * `sources` maps paths set from the environment to the variable, so the user looks there.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.ZodType, sources: ReadonlyMap<string, string>): DescribedIssue[] {
  const out: DescribedIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    if (issue.code === 'unrecognized_keys') {
      const valid = keysAt(schema, path, input);
      for (const key of issue.keys) {
        const near = suggest(key, valid);
        const hint = near ? ` — did you mean '${near}'?` : ` (valid here: ${valid.join(', ')})`;
        out.push({ path: [...path, key], atKey: true, message: `Unknown key '${formatPath([...path, key])}'${hint}` });
      }
      continue;
    }
    const value = valueAt(input, path);
    const seen = found(value, isSecretPath(path));
    let predicate: string;
    switch (issue.code) {
      case 'invalid_type':
        predicate = value === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? issue.expected}; found ${seen}`;
        break;
      case 'invalid_value': {
        const near = typeof value === 'string' && !isSecretPath(path) ? suggest(value, issue.values.map(String)) : undefined;
        predicate = `must be one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}; found ${seen}${near ? ` — did you mean '${near}'?` : ''}`;
        break;
      }
      case 'invalid_union': {
        // A discriminated union (a policy's `type`) names the values it knows.
        const options = (issue as { options?: unknown[] }).options;
        if (!options) {
          predicate = `${issue.message}; found ${seen}`;
          break;
        }
        const near = typeof value === 'string' ? suggest(value, options.map(String)) : undefined;
        predicate =
          value === undefined
            ? `is required: one of ${options.map((v) => `'${String(v)}'`).join(', ')}`
            : `must be one of ${options.map((v) => `'${String(v)}'`).join(', ')}; found ${seen}${near ? ` — did you mean '${near}'?` : ''}`;
        break;
      }
      case 'too_small':
        predicate = `${limitPredicate(issue, issue.minimum, 'least')}; found ${seen}`;
        break;
      case 'too_big':
        predicate = `${limitPredicate(issue, issue.maximum, 'most')}; found ${seen}`;
        break;
      default:
        predicate = `${issue.message}; found ${seen}`;
    }
    const subject = path.length === 0 ? 'The configuration' : formatPath(path);
    const source = sources.get(formatPath(path));
    out.push({ path, message: `${subject} ${predicate}${source ? ` (set by ${source})` : ''}` });
  }
  return out;
}
