import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { Review } from '../../review/types.js';
import { examples, out, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { ReviewClient, TOKEN_VARIABLE } from '../review-client.js';
import { renderTable } from '../table.js';
import { printable, printableBlock } from '../../ledger/printable.js';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'all'];

interface Common {
  gateway?: string;
  json?: boolean;
}

export function registerReview(program: Command, ctx: CliContext): void {
  const review = program
    .command('review')
    .description(`decide escalated calls through the gateway's review API: list, show, approve, reject (your reviewer token in ${TOKEN_VARIABLE})`)
    .addHelpText(
      'after',
      `${examples(
        'llm-ledger review list',
        'llm-ledger review show 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
        'llm-ledger review approve 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --reason "public information"',
        'llm-ledger review reject 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --reason "customer data"',
      )}\n\nThe commands talk to a running gateway (default http://127.0.0.1:<gateway.port>; --gateway <url> for another), so a\n` +
        'request it holds learns the decision at once. Every decision is recorded in the ledger naming the reviewer your token\n' +
        `stands for. Exit code 2 for a missing or unknown token or a review already decided, 3 when the gateway cannot be\nreached, 4 when no review has that id.`,
    );
  const client = (opts: Common) => ReviewClient.from(loadConfig(ctx.config() === undefined ? {} : { path: ctx.config()! }), opts.gateway);
  const gatewayOption = ['--gateway <url>', "the gateway's URL (default: http://127.0.0.1:<gateway.port> from the configuration)"] as const;

  review
    .command('list')
    .description('reviews, newest first: pending by default')
    .option('--status <status>', `pending, approved, rejected, expired or all`, (value: string) => {
      if (!STATUSES.includes(value)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(', ')}`);
      return value;
    })
    .option('--limit <n>', 'at most this many (1 to 500, default 50)', (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError('must be a whole number from 1 to 500');
      return n;
    })
    .option(...gatewayOption)
    .option('--json', 'print the reviews as a JSON array')
    .addHelpText('after', examples('llm-ledger review list', 'llm-ledger review list --status all --limit 20 --json'))
    .action(async (opts: Common & { status?: string; limit?: number }) => {
      const query = new URLSearchParams({ status: opts.status ?? 'pending', ...(opts.limit === undefined ? {} : { limit: String(opts.limit) }) });
      const { data } = (await client(opts).get(`?${query}`)) as { data: Review[] };
      if (opts.json) out(jsonText(data));
      else if (data.length === 0) out(`no ${opts.status === 'all' ? '' : `${opts.status ?? 'pending'} `}reviews`);
      else out(reviewTable(data));
      process.exitCode = EXIT.ok;
    });

  review
    .command('show <id>')
    .description('one review: what was escalated, by which policy and why, and its decision; --reveal also the content under review')
    .option('--reveal', 'also decrypt the content under review, when capture kept it and your token may reveal (the reading is recorded)')
    .option('--reason <text>', 'why you are looking (required with --reveal); recorded with the reading')
    .option(...gatewayOption)
    .option('--json', 'print the review (and content) as JSON')
    .addHelpText(
      'after',
      examples(
        'llm-ledger review show 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
        'llm-ledger review show 019ab2c4-... --reveal --reason "deciding the escalation"',
      ),
    )
    .action(async (id: string, opts: Common & { reveal?: boolean; reason?: string }) => {
      if (opts.reveal && !opts.reason?.trim()) throw new UsageError('--reveal needs --reason "..." saying why you are looking; it is recorded');
      const api = client(opts);
      const found = (await api.get(`/${encodeURIComponent(id)}`)) as Review;
      const revealed = opts.reveal
        ? ((await api.post(`/${encodeURIComponent(id)}/reveal`, { reason: opts.reason })) as { content: Record<string, string>; access_record_id: string })
        : undefined;
      if (opts.json) out(jsonText(revealed ? { ...found, content: revealed.content, accessRecordId: revealed.access_record_id } : found));
      else {
        out(reviewDetails(found));
        if (revealed) {
          for (const [field, text] of Object.entries(revealed.content))
            out(`${field}:\n${printableBlock(typeof text === 'string' ? text : JSON.stringify(text))}`);
          out(`(this reading is recorded as content_accessed record ${revealed.access_record_id})`);
        }
      }
      process.exitCode = EXIT.ok;
    });

  for (const [verb, decision] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    review
      .command(`${verb} <id>`)
      .description(`${verb} a pending review; the decision, your name and the reason are recorded`)
      .requiredOption('--reason <text>', 'why (1 to 1000 characters); recorded with the decision')
      .option(...gatewayOption)
      .option('--json', 'print the decided review as JSON')
      .addHelpText(
        'after',
        examples(
          `llm-ledger review ${verb} 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --reason "${verb === 'approve' ? 'public information' : 'contains customer data'}"`,
        ),
      )
      .action(async (id: string, opts: Common & { reason: string }) => {
        const decided = (await client(opts).post(`/${encodeURIComponent(id)}/${verb}`, { reason: opts.reason })) as Review;
        out(opts.json ? jsonText(decided) : `review ${printable(decided.id)} ${decision} by ${printable(decided.decision?.reviewer)}`);
        process.exitCode = EXIT.ok;
      });
  }
}

function reviewTable(reviews: readonly Review[]): string {
  return renderTable(
    [
      { header: 'ID' },
      { header: 'CREATED' },
      { header: 'STATUS' },
      { header: 'POLICY' },
      { header: 'AT' },
      { header: 'USER' },
      { header: 'MODEL' },
      { header: 'REASON' },
    ],
    reviews.map((r) => [r.id, r.createdAt, r.status, r.policy, r.checkpoint, r.user ?? '-', r.model ?? '-', r.reason]),
  );
}

function reviewDetails(r: Review): string {
  const lines = [
    `review ${r.id}: ${r.status}`,
    `  created      ${r.createdAt}${r.deadline ? `  (held until ${r.deadline})` : ''}`,
    `  escalated by ${r.policy} at the ${r.checkpoint} checkpoint (${r.mode} mode): ${r.reason}`,
    `  request      ${r.requestId}  trace ${r.traceId}`,
    `  caller       ${r.user ?? '-'}${r.tenant ? ` (team ${r.tenant})` : ''}  model ${r.model ?? '-'}  endpoint ${r.endpoint ?? '-'}`,
    `  content      ${r.contentStored ? 'kept (show --reveal --reason "..." to read it, if your token may)' : 'not kept: capture kept at most digests'}`,
  ];
  if (r.decision)
    lines.push(
      `  decision     ${r.decision.decision} by ${r.decision.reviewer} at ${r.decision.decidedAt}${r.decision.timedOut ? ' (timed out)' : ''}: ${r.decision.reason}`,
    );
  return lines.map((line) => printable(line)).join('\n');
}
