import * as z from 'zod';
import { BUILTIN_DETECTORS, createRedactor, RedactorConfigError } from '../capture/pii.js';
import { CHECKPOINTS } from '../policy/types.js';
import { envName, section, sha256Hex } from './schema-parts.js';

/*
 * Governance in the gateway: the policies checked at the request and response checkpoints, and
 * the reviewers who decide escalations. Each policy is one entry of `gateway.policies`, told
 * apart by `type`; keys that do not belong to its type are errors like any unknown key.
 */

export const POLICY_TYPES = ['models', 'max_tokens', 'pattern', 'pii', 'budget', 'rate_limit'] as const;

const policyName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'must be a name of letters, digits, _ . and - (at most 64); it is recorded with every evaluation' });
const glob = z.string().min(1).max(256);
const usd = z.number().positive().max(1e9);

/** How an escalation waits: `hold` keeps the client waiting for a decision, `async` answers 202 at once. */
const review = section({
  mode: z.enum(['hold', 'async']).default('hold'),
  // Hold mode: a request with no decision by then is rejected.
  timeout_ms: z.int().min(1).max(86_400_000).default(300_000),
});

const checkpoints = z
  .array(z.enum(CHECKPOINTS))
  .min(1)
  .transform((list) => [...new Set(list)]);

/** What a text rule does with a match. */
const textAction = z.enum(['block', 'escalate', 'redact']);

const customPattern = section({ name: z.string().min(1).max(64), regex: z.string().min(1), flags: z.string().optional() });

const policy = z.discriminatedUnion('type', [
  section({
    type: z.literal('models'),
    name: policyName,
    allow: z.array(glob).default([]),
    deny: z.array(glob).default([]),
  }),
  section({
    type: z.literal('max_tokens'),
    name: policyName,
    max: z.int().min(1).max(10_000_000),
    action: z.enum(['clamp', 'block']).default('clamp'),
  }),
  section({
    type: z.literal('pattern'),
    name: policyName,
    patterns: z.array(customPattern).min(1),
    checkpoints: checkpoints.default(['request', 'response']),
    action: textAction.default('block'),
    review: review.optional(),
  }),
  section({
    type: z.literal('pii'),
    name: policyName,
    detectors: z
      .array(z.enum(BUILTIN_DETECTORS))
      .min(1)
      .default([...BUILTIN_DETECTORS]),
    checkpoints: checkpoints.default(['request', 'response']),
    action: textAction.default('redact'),
    review: review.optional(),
  }),
  section({
    type: z.literal('budget'),
    name: policyName,
    per_user_usd: usd.optional(),
    per_team_usd: usd.optional(),
  }),
  section({
    type: z.literal('rate_limit'),
    name: policyName,
    requests_per_minute: z.int().min(1).max(10_000_000),
    // Requests a key may send at once after a quiet spell; the per-minute rate by default.
    burst: z.int().min(1).max(10_000_000).optional(),
  }),
]);

export type PolicyConfig = z.output<typeof policy>;

export const policiesSchema = z
  .array(policy)
  .default([])
  .superRefine((policies, ctx) => {
    const seen = new Set<string>();
    policies.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `repeats an earlier policy's name; each policy is recorded by its name, so names must be unique`,
        });
      seen.add(p.name);
      if (p.type === 'pattern') {
        p.patterns.forEach((pattern, j) => {
          try {
            createRedactor({
              detectors: [],
              custom: [{ name: pattern.name, pattern: pattern.regex, ...(pattern.flags === undefined ? {} : { flags: pattern.flags }) }],
            });
          } catch (err) {
            if (!(err instanceof RedactorConfigError)) throw err;
            ctx.addIssue({ code: 'custom', path: [i, 'patterns', j, 'regex'], message: `is refused: ${err.message}` });
          }
        });
      }
      if (p.type === 'budget' && p.perUserUsd === undefined && p.perTeamUsd === undefined) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'needs per_user_usd, per_team_usd or both: the daily budget in USD' });
      }
      if (p.type === 'models' && p.allow.length === 0 && p.deny.length === 0) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'needs an allow list, a deny list or both' });
      }
      if ((p.type === 'pattern' || p.type === 'pii') && p.review !== undefined && p.action !== 'escalate') {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'review'],
          message: `applies only to action: escalate (this policy's action is ${p.action}); remove it or set action: escalate`,
        });
      }
      if ((p.type === 'pattern' || p.type === 'pii') && p.action === 'escalate' && p.review?.mode === 'async' && p.checkpoints.includes('response')) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'review', 'mode'],
          message:
            'is async, which answers 202 and lets the client send the request again once approved; an answer under review can only be held: use mode: hold, or checkpoints: [request]',
        });
      }
    });
  });

/** Who may decide reviews, by a token each reviewer presents (`Authorization: Bearer`). */
const reviewer = section({
  name: z.string().min(1).max(256),
  // SHA-256 of the reviewer's token, hex, or the name of an environment variable holding the token.
  sha256: sha256Hex.optional(),
  env: envName.optional(),
  // May this reviewer read the content under review (when capture kept it)? Each reading is recorded.
  reveal: z.boolean().default(false),
}).refine((r) => (r.sha256 === undefined) !== (r.env === undefined), {
  message: "needs exactly one of sha256 (the token's SHA-256, hex) or env (a variable holding the token)",
});

export const reviewSchema = section({
  reviewers: z.array(reviewer).default([]),
  // How often a held request looks in the ledger for a decision taken through another gateway instance.
  poll_interval_ms: z.int().min(50).max(60_000).default(1000),
  // Async mode: how long an approval lets the client send the approved request again.
  approval_ttl_ms: z
    .int()
    .min(1000)
    .max(30 * 86_400_000)
    .default(86_400_000),
}).superRefine((r, ctx) => {
  const names = new Set<string>();
  r.reviewers.forEach((reviewer, i) => {
    if (names.has(reviewer.name))
      ctx.addIssue({
        code: 'custom',
        path: ['reviewers', i, 'name'],
        message: 'repeats an earlier reviewer: decisions are recorded by name, so names must be unique',
      });
    names.add(reviewer.name);
  });
});
