import type { LoggedRecord } from '../record/types.js';
import type { Accounting, CallOutcome } from './types.js';

/**
 * What the day's spend asks its source for: the calls since the start of the UTC day. The part of
 * the store's `SearchFilter` (src/store/store.ts) it uses, so that policy needs nothing from the
 * store, a layer above it; any `SearchFilter` reader takes it.
 */
export interface SpendFilter {
  kind: 'llm.call';
  since: string;
}

/** Where the day's spend so far is read at start-up: the ledger itself. */
export interface SpendSource {
  records(filter: SpendFilter): AsyncIterable<LoggedRecord[]>;
}

const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * Spend in USD per user and per team for the current UTC day, from the ledger's calls of the day
 * (read once at start-up) plus every call this process records after that. It starts again at
 * zero when the UTC day changes. Each gateway instance keeps its own running total, so with
 * several instances a budget can be overrun by the calls the others made since this one started.
 */
export class DailySpend implements Accounting {
  private day: string;
  private readonly users = new Map<string, number>();
  private readonly teams = new Map<string, number>();

  constructor(private readonly now: () => Date = () => new Date()) {
    this.day = utcDay(this.now());
  }

  /** Adds every call of the current UTC day already in the ledger. */
  async load(source: SpendSource): Promise<void> {
    this.rollOver();
    for await (const batch of source.records({ kind: 'llm.call', since: `${this.day}T00:00:00.000Z` })) {
      for (const { envelope } of batch) {
        if (envelope.ts.slice(0, 10) === this.day) this.observe({ user: envelope.user, team: envelope.tenant, costUsd: envelope.costUsd });
      }
    }
  }

  observe(call: CallOutcome): void {
    this.rollOver();
    if (!call.costUsd) return;
    if (call.user !== undefined) this.users.set(call.user, (this.users.get(call.user) ?? 0) + call.costUsd);
    if (call.team !== undefined) this.teams.set(call.team, (this.teams.get(call.team) ?? 0) + call.costUsd);
  }

  ofUser(user: string): number {
    this.rollOver();
    return this.users.get(user) ?? 0;
  }

  ofTeam(team: string): number {
    this.rollOver();
    return this.teams.get(team) ?? 0;
  }

  get currentDay(): string {
    this.rollOver();
    return this.day;
  }

  private rollOver(): void {
    const today = utcDay(this.now());
    if (today === this.day) return;
    this.day = today;
    this.users.clear();
    this.teams.clear();
  }
}
