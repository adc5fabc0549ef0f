import pg from 'pg';

export interface PostgresOptions {
  /** Connection URL; a password in it is used, never printed. */
  url: string;
  /** The schema that holds this ledger; its roles are named after it. */
  schema: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
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
    // An unreachable server fails a call within seconds instead of hanging it: the ledger's failure mode then applies.
    connectionTimeoutMillis: 5000,
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

/**
 * One long-lived connection working as `role`: the integrator's, whose session holds the
 * advisory lock that makes it the integrator, so the lock goes when the connection goes.
 */
export function openSessionClient(options: PostgresOptions, role: string): pg.Client {
  const client = new pg.Client({
    connectionString: options.url,
    // The pid lets an operator (and the takeover test) tell which process integrates, from pg_stat_activity.
    application_name: `llm-ledger integrator ${process.pid}`,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    options: `-c role=${role} ${NO_JIT}`,
    types,
  });
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

/** One transaction on one connection, optionally as another role (SET LOCAL ROLE: it ends with the transaction). */
export async function inTransaction<T>(pool: pg.Pool, role: string | undefined, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    if (role) await client.query(`SET LOCAL ROLE "${role}"`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // Only a connection that broke is closed; a refused statement leaves it usable.
    client.release(failure && !('code' in failure) ? failure : undefined);
  }
}
