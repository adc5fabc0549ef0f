import type { ClientBase } from 'pg';
import { MIGRATIONS, POSTGRES_SCHEMA_VERSION, rolesOf, type Migration } from './postgres-schema.js';
import { StoreError } from '../store.js';

export interface MigrationResult {
  /** The schema version found, 0 for a new schema. */
  from: number;
  to: number;
}

/**
 * Brings a ledger schema to the current version at start-up. Safe to run from any number of
 * processes at once: everything happens in one transaction under an advisory lock on the schema's
 * name, so one process migrates and the others find the work done. A schema already current is
 * left alone without taking the lock or any role, so a login that may only write can start too.
 */
export async function migrate(client: ClientBase, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const latest = migrations.at(-1)?.version ?? 0;
  const found = await schemaVersion(client, schema);
  if (found > latest) throw newerSchema(schema, found);
  if (found === latest) return { from: found, to: found };
  const roles = rolesOf(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`llm-ledger:migrate:${schema}`]);
    await ensureRoles(client, Object.values(roles));
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}" AUTHORIZATION "${roles.owner}"`);
    await client.query(`SET LOCAL ROLE "${roles.owner}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(`GRANT SELECT ON "${schema}".schema_migrations TO "${roles.writer}", "${roles.reader}"`);
    // Read again under the lock: another process may have migrated while this one waited.
    const current = await versionIn(client, schema);
    if (current > latest) throw newerSchema(schema, current);
    for (const migration of migrations.filter((m) => m.version > current)) {
      await client.query(migration.sql(schema, roles));
      await client.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
    return { from: current, to: latest };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot migrate PostgreSQL schema ${schema} to version ${latest}: ${(err as Error).message}${hintFor(err, roles.owner)}`, {
      cause: err,
    });
  }
}

/** The version recorded in the schema, 0 when the schema or its migrations table does not exist. */
export async function schemaVersion(client: ClientBase, schema: string): Promise<number> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`"${schema}".schema_migrations`]);
  return exists.rows[0]?.t ? versionIn(client, schema) : 0;
}

async function versionIn(client: ClientBase, schema: string): Promise<number> {
  const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM "${schema}".schema_migrations`);
  return rows[0]?.v ?? 0;
}

/**
 * Creates the roles that do not exist yet (NOLOGIN: logins are granted them) and makes the
 * connecting login a member of each, so it can migrate as the owner and work as the writer.
 */
async function ensureRoles(client: ClientBase, roles: string[]): Promise<void> {
  const { rows } = await client.query<{ rolname: string; member: boolean }>(
    'SELECT r.rolname, pg_has_role(session_user, r.oid, $2) AS member FROM pg_roles r WHERE r.rolname = ANY($1)',
    [roles, 'MEMBER'],
  );
  const known = new Map(rows.map((r) => [r.rolname, r.member]));
  // A superuser may act as any role without being granted it.
  const superuser = (await client.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = session_user')).rows[0]?.su === true;
  for (const role of roles) {
    if (!known.has(role)) await client.query(`CREATE ROLE "${role}" NOLOGIN`);
    if (known.get(role) !== true && !superuser) await client.query(`GRANT "${role}" TO session_user`);
  }
}

function newerSchema(schema: string, version: number): StoreError {
  return new StoreError(
    `PostgreSQL schema ${schema} was written by a newer llm-ledger (schema ${version}, this one knows ${POSTGRES_SCHEMA_VERSION}); upgrade llm-ledger to use it`,
  );
}

function hintFor(err: unknown, owner: string): string {
  const code = (err as { code?: string }).code;
  if (code === '42501') {
    return `. The login needs CREATEROLE (or the roles created beforehand, see docs/stores.md, PostgreSQL) and membership in ${owner} to migrate; or run the migration once as such a login`;
  }
  return '';
}
