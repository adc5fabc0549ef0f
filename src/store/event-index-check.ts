/**
 * What a check of the index of events (Store.checkEventIndex) found, worded the same for every
 * store: the first indexes of records a search by event type would miss (`unindexed`), and of
 * records it would find for an event they do not carry (`extra`). Each list holds up to six, so a
 * sixth says there are more.
 */
export function eventIndexProblems(unindexed: readonly (number | string)[], extra: readonly (number | string)[]): string[] {
  const list = (indexes: readonly (number | string)[]) => `${indexes.slice(0, 5).join(', ')}${indexes.length > 5 ? ', ...' : ''}`;
  const problems: string[] = [];
  if (unindexed.length > 0) problems.push(`the index of events lacks events that the records at index ${list(unindexed)} carry`);
  if (extra.length > 0) problems.push(`the index of events lists events that the records at index ${list(extra)} do not carry`);
  return problems;
}
