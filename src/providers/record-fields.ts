/**
 * Values from the wire (an upstream's answer, a client's header) are not trusted to fit the
 * record schema: a bad one is dropped or cut here, so it can never cost the whole record.
 */
const IDENTIFIER_MAX = 256;

export const bounded = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value.slice(0, IDENTIFIER_MAX));
export const count = (value: number | undefined): number | undefined => (value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined);
export const millis = (value: number | undefined): number | undefined => (value !== undefined && Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) / 1000 : undefined);
export const usd = (value: number | undefined): number | undefined => (value !== undefined && Number.isFinite(value) && value >= 0 && value <= 1e9 ? value : undefined);
