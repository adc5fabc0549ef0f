import pg from 'pg';
import { StoreError } from '../store.js';

export interface PostgresOptions {
  /** Connection URL; a password in it is used, never printed. */
  url: string;
  /** The schema that holds this ledger; its roles are named after it. */
  schema: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /**
   * How long an append may take, from the call to its commit, waiting for a connection included
   * (`store.append_timeout_ms`, default 5000); also bounds opening a connection.
   */
  appendTimeoutMs?: number;
  /** How long any other statement may take: a read, one batch of a scan (`store.read_timeout_ms`, default 30000). */
  readTimeoutMs?: number;
}

export const DEFAULT_APPEND_TIMEOUT_MS = 5000;
export const DEFAULT_READ_TIMEOUT_MS = 30_000;

/**
 * The client's own limit on a statement runs this much longer than the server's
 * (`statement_timeout`), so a server that answers cancels the statement itself and the connection
 * stays usable; the client's fires only when the server does not answer at all (frozen,
 * partitioned away), and the connection is then closed, never reused.
 */
const CLIENT_GRACE_MS = 1000;

/**
 * What failed, in words that name the limit and its setting where node-postgres's own do not
 * ("Query read timeout", "timeout expired", ...).
 */
export function failureReason(err: unknown, options: PostgresOptions): string {
  const message = err instanceof Error ? err.message : String(err);
  const { connectionTimeoutMillis, query_timeout } = limits(options);
  if (message === 'Query read timeout') return `the server did not answer within ${query_timeout} ms (store.read_timeout_ms)`;
  if (message === 'timeout expired' || message === 'timeout exceeded when trying to connect' || message === 'Connection terminated due to connection timeout') {
    return `no connection within ${connectionTimeoutMillis} ms (store.append_timeout_ms)`;
  }
  return message;
}

/** The limits every connection of a store starts with (see `PostgresOptions`). */
function limits(options: PostgresOptions) {
  const read = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  return {
    connectionTimeoutMillis: options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS,
    statement_timeout: read,
    query_timeout: read + CLIENT_GRACE_MS,
  };
}

const INT8_OID = 20;

/**
 * Log indexes and sizes are bigint columns, which node-postgres hands back as strings (they may
 * exceed 2^53). A log never gets near that, so they come back as numbers here.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Just-in-time compilation off: PostgreSQL compiles a plan whose estimated cost passes
 * `jit_above_cost`, which an append of a 2,048-record batch does, and it compiles again at every
 * execution, prepared or not: about 0.8 s of a 1.1 s append here, against 0.2 s without it. The
 * store's statements are short and index-driven, where compiling never pays back.
 */
export const NO_JIT = '-c jit=off';

/**
 * A pool whose connections work as `role` (set at connection start, so a login that may not take
 * the role cannot connect at all): the process then holds no more rights than the role.
 */
export function openPool(options: PostgresOptions, role: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 4,
    application_name: 'llm-ledger',
    // An unreachable or unresponsive server fails a call within its limit instead of hanging it:
    // the ledger's failure mode then applies. pool.query closes a connection whose query failed
    // without an answer from the server, so a timed-out one is never reused.
    ...limits(options),
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    options: `-c role=${role} ${NO_JIT}`,
    types,
  });
  // An idle connection the server dropped (restart, outage) is discarded by the pool; the next call opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

/** A single connection as the login itself, for migrations. */
export function openClient(options: PostgresOptions): pg.Client {
  const client = new pg.Client({ connectionString: options.url, application_name: 'llm-ledger', connectionTimeoutMillis: 5000, types });
  client.on('error', () => undefined);
  return client;
}

/** The URL without password or parameters, and the schema: for messages and `location`. */
export function postgresLocation(url: string, schema: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : '';
    return `postgres://${user}${parsed.host}${parsed.pathname} (schema ${schema})`;
  } catch {
    return `postgres (schema ${schema})`;
  }
}

/** What the parts of a PostgreSQL store share. */
export interface PostgresSession {
  pool: pg.Pool;
  /** The schema's name, quoted for SQL. */
  s: string;
  roles: { writer: string; retention: string };
  location: string;
  /** Resolves once migrations have run; every call awaits it first. */
  ready(): Promise<void>;
}

/**
 * One transaction on one connection, optionally as another role (SET LOCAL ROLE: it ends with the
 * transaction). With a `deadline`, the connection is closed at once when it passes: the statement
 * waiting for an answer fails, and the server rolls back whatever was not committed (a COMMIT
 * already sent may still go through: the caller cannot know, see the spool's replay). The
 * server's own limits for the transaction are set a little beyond it.
 */
export async function inTransaction<T>(pool: pg.Pool, role: string | undefined, work: (client: pg.PoolClient) => Promise<T>, deadline?: Deadline): Promise<T> {
  const client = await pool.connect();
  if (deadline?.passed) {
    // The deadline passed while waiting for a connection: it goes back unused.
    client.release();
    throw deadline.error();
  }
  // A checked-out connection that breaks (reset, ended by the server) emits 'error', which the
  // pool only listens for while the connection is idle: unheard, it would end the process. The
  // statement waiting fails with it anyway; a connection that broke is closed, never reused.
  let broken: Error | undefined;
  const onError = (err: Error) => (broken ??= err);
  client.on('error', onError);
  const abort = () => void client.end().catch(() => undefined);
  deadline?.signal.addEventListener('abort', abort, { once: true });
  let failure: Error | undefined;
  try {
    // The server gives up too (one round trip, as BEGIN alone): on a statement (a lock wait), and
    // on the transaction when the client vanished mid-way (a partition), so the log head's lock
    // is never held longer. A little after the client's own limit, which normally closes first.
    const limit = deadline ? deadline.ms + CLIENT_GRACE_MS : 0;
    await client.query(deadline ? `BEGIN; SET LOCAL statement_timeout = ${limit}; SET LOCAL idle_in_transaction_session_timeout = ${limit}` : 'BEGIN');
    if (role) await client.query(`SET LOCAL ROLE "${role}"`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = deadline?.passed ? deadline.error(err) : (err as Error);
    // A statement the server refused leaves the connection usable once rolled back. One that got
    // no answer (a timeout, a broken or closed connection) does not: a ROLLBACK would only queue
    // behind it, so the connection is closed instead, which rolls back as surely.
    if (answered(err) && !broken) await client.query('ROLLBACK').catch(() => undefined);
    throw failure;
  } finally {
    deadline?.signal.removeEventListener('abort', abort);
    client.off('error', onError);
    const discard = broken ?? (failure && !answered(failure) ? failure : undefined);
    client.release(discard);
  }
}

/**
 * A failure the server answered with: it carries a five-character SQLSTATE (a socket error's code,
 * ECONNRESET and the like, is longer), so the connection is still in step with the server.
 */
function answered(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * The time limit of one store operation, counted from its call (`store.append_timeout_ms` for an
 * append). `race` settles the caller's promise at the limit with a StoreError that says so, and
 * aborts `signal`, which the work uses to close its connection.
 */
export class Deadline {
  private readonly end: number;
  private readonly controller = new AbortController();

  constructor(
    readonly ms: number,
    /** What timed out, for the message: "cannot append in <location>". */
    private readonly what: string,
    /** The setting that sets the limit, named in the message. */
    private readonly setting: string,
  ) {
    this.end = performance.now() + ms;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get remaining(): number {
    return this.end - performance.now();
  }

  get passed(): boolean {
    return this.controller.signal.aborted || this.remaining <= 0;
  }

  /** The StoreError a caller gets when the limit passes; `cause`: what the work itself failed with, if anything. */
  error(cause?: unknown): StoreError {
    return new StoreError(`${this.what}: timed out after ${this.ms} ms (${this.setting})`, cause === undefined ? undefined : { cause });
  }

  /** `work`'s outcome, or at the limit a StoreError that says it timed out (the signal is aborted then). */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.controller.abort();
          reject(this.error());
        },
        Math.max(0, this.remaining),
      );
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err as Error);
        },
      );
    });
  }
}
