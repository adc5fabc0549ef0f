import type { DailySpend } from './daily-spend.js';
import type { Checkpoint, Policy, PolicySubject, Verdict } from './types.js';

const REQUEST_ONLY: ReadonlySet<Checkpoint> = new Set(['request']);

const usd = (amount: number): string => `$${amount.toFixed(amount < 1 ? 4 : 2)}`;

/**
 * A daily budget in USD per user and per team (the team of the gateway key). A request is
 * blocked once the day's spend has reached the budget; the call that crosses it is allowed, since
 * its cost is known only when it ends. Days are UTC days. Every budget policy reads one shared
 * `DailySpend`, which the engine keeps up to date.
 */
export class Budget implements Policy {
  readonly type = 'budget';
  readonly checkpoints = REQUEST_ONLY;

  constructor(
    readonly name: string,
    private readonly limits: { perUserUsd?: number; perTeamUsd?: number },
    private readonly spend: DailySpend,
  ) {}

  evaluate(subject: PolicySubject): Verdict {
    const { perUserUsd, perTeamUsd } = this.limits;
    if (perUserUsd !== undefined && subject.user !== undefined) {
      const spent = this.spend.ofUser(subject.user);
      if (spent >= perUserUsd)
        return {
          outcome: 'BLOCK',
          reason: `user "${subject.user}" has spent ${usd(spent)} today (UTC ${this.spend.currentDay}); the daily budget is ${usd(perUserUsd)}`,
        };
    }
    if (perTeamUsd !== undefined && subject.team !== undefined) {
      const spent = this.spend.ofTeam(subject.team);
      if (spent >= perTeamUsd)
        return {
          outcome: 'BLOCK',
          reason: `team "${subject.team}" has spent ${usd(spent)} today (UTC ${this.spend.currentDay}); the daily budget is ${usd(perTeamUsd)}`,
        };
    }
    return { outcome: 'ALLOW' };
  }
}
