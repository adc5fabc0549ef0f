import * as z from 'zod';

/* Building blocks every configuration section uses. */

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A strict snake_case section with camelCase output. Only this object's own keys are renamed,
 * so user-chosen names in nested maps (header names, route names) stay as written.
 */
export function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape).transform((value) => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[camelCase(key)] = v;
    return out as CamelKeys<typeof value>;
  });
}

/** An environment variable's name, for settings that name where a secret is read. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const envName = z.string().regex(ENV_NAME, { message: 'must be an environment variable name (letters, digits and _, not starting with a digit)' });

/** SHA-256 of a key as 64 hex digits: keys themselves never sit in the configuration file. */
export const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { message: 'must be the SHA-256 of the key as 64 hex digits (printf %s "$KEY" | sha256sum)' })
  .transform((hex) => hex.toLowerCase());
