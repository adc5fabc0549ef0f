/** The median of repeated measurements (the lower middle one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
}

/** "median (min-max)": on a shared machine the spread of the rounds is part of the result. */
export function spread(values: readonly number[], digits: number, unit = ''): string {
  return `${median(values).toFixed(digits)}${unit} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}${unit})`;
}
