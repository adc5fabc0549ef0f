import type { LedgerConfig } from '../config/schema.js';
import { GATEWAY_HOST, REVIEWS_PATH } from '../gateway/http/addresses.js';
import { LedgerUnavailableError } from './context.js';
import { NotFoundError, UsageError } from './exit-codes.js';

/** Where the reviewer's token is read: never a flag, so it stays out of shell history and `ps`. */
export const TOKEN_VARIABLE = 'LLM_LEDGER_REVIEWER_TOKEN';

/**
 * The review API of a running gateway, as the CLI calls it. Reviews are decided there (not in the
 * store directly) so the gateway holding a request learns the decision at once, and so every
 * decision names a reviewer the gateway authenticated.
 */
export class ReviewClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static from(cfg: LedgerConfig, gateway: string | undefined, env: NodeJS.ProcessEnv = process.env): ReviewClient {
    const token = env[TOKEN_VARIABLE];
    if (token === undefined || token.trim() === '') {
      throw new UsageError(
        `set ${TOKEN_VARIABLE} to your reviewer token (one of gateway.review.reviewers); it is read from the environment only, never from a flag`,
      );
    }
    const base = gateway ?? `http://${GATEWAY_HOST}:${cfg.gateway.port}`;
    if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol))
      throw new UsageError(`--gateway must be the gateway's http(s) URL, e.g. http://127.0.0.1:8787; got ${base}`);
    return new ReviewClient(base.replace(/\/+$/, ''), token.trim());
  }

  get(path: string): Promise<unknown> {
    return this.call('GET', path);
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.call('POST', path, body);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${REVIEWS_PATH}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new LedgerUnavailableError(
        `cannot reach the gateway at ${this.baseUrl} (${cause}): reviews are decided through a running 'llm-ledger serve'; pass --gateway <url> if it listens elsewhere`,
      );
    }
    const json = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    if (response.ok) return json;
    const message = json.error?.message ?? `the gateway answered HTTP ${response.status}`;
    if (response.status === 404) throw new NotFoundError(message);
    if (response.status === 401) throw new UsageError(`${message} (${TOKEN_VARIABLE} is not a reviewer token this gateway knows)`);
    if (response.status >= 500) throw new LedgerUnavailableError(message);
    throw new UsageError(message);
  }
}
