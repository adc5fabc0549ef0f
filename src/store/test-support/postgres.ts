import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { signBatchSeal } from '../../log/batch-seal.js';
import { generateSignerKey, NoteSigner } from '../../log/checkpoint.js';
import { rolesOf } from '../postgres/postgres-schema.js';

/** The server tests run against (`.ci/run` makes sure it is up): trust auth, superuser postgres, database test. */
export const TEST_DATABASE_URL = process.env.LLM_LEDGER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Schemas for one test file, each with its own roles, so test files and concurrent runs never
 * share a table; `dropAll` removes the schemas and their roles afterwards.
 */
export class TestSchemas {
  private readonly made: string[] = [];
  private readonly prefix = `llt_${randomBytes(4).toString('hex')}`;

  next(): string {
    const schema = `${this.prefix}_${this.made.length}`;
    this.made.push(schema);
    return schema;
  }

  async dropAll(): Promise<void> {
    await withClient(async (client) => {
      for (const schema of this.made.splice(0)) await dropSchema(client, schema);
    });
  }
}

/** Runs `work` on a connection as the superuser. */
export async function withClient<T>(work: (client: pg.Client) => Promise<T>, url = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function dropSchema(client: pg.Client, schema: string): Promise<void> {
  const roles = Object.values(rolesOf(schema));
  const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [roles]);
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  for (const { rolname } of rows) {
    await client.query(`DROP OWNED BY "${rolname}"`);
    await client.query(`DROP ROLE "${rolname}"`);
  }
}

/** Seals batches appended straight to a store in tests, as a writer of a ledger with `signer` and `origin` would. */
export function sealer(signer = new NoteSigner(generateSignerKey('test.example/log')), origin = 'test.example/log') {
  return { seal: (first: number, leaves: readonly Buffer[]) => signBatchSeal(signer, origin, first, leaves) };
}
