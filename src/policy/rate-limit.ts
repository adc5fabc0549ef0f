import type { Checkpoint, Policy, PolicySubject, Verdict } from './types.js';

const REQUEST_ONLY: ReadonlySet<Checkpoint> = new Set(['request']);

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, performance clock). */
  at: number;
}

/** Buckets are forgotten once full again; a sweep runs when this many are held. */
const SWEEP_AT = 10_000;

/**
 * Requests per minute per API key (by the SHA-256 of the key the client presented; keyless
 * requests share one bucket): a token bucket holding `burst` requests, refilled at the
 * per-minute rate. Over the limit the request is blocked with 429 and a Retry-After saying when
 * one request will be allowed again. Each gateway instance counts its own requests.
 */
export class RateLimit implements Policy {
  readonly type = 'rate_limit';
  readonly checkpoints = REQUEST_ONLY;
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly name: string,
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = perMinute / 60_000;
  }

  evaluate(subject: PolicySubject): Verdict {
    const key = subject.keyHash ?? '';
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (this.buckets.size >= SWEEP_AT && !this.buckets.has(key)) this.sweep(now);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { outcome: 'ALLOW' };
    }
    const retryAfterMs = Math.ceil((1 - bucket.tokens) / this.perMs);
    return { outcome: 'BLOCK', reason: `more than ${this.perMinute} requests per minute with this key`, httpStatus: 429, retryAfterMs };
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.burst) this.buckets.delete(key);
    }
  }
}
