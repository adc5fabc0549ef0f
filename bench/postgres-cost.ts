import { existsSync, readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { NO_JIT } from '../src/store/postgres/postgres-connection.js';

/** What PostgreSQL spent on a piece of work, per record stored. */
export interface ServerCost {
  /** CPU of the server's processes (backends, WAL writer, checkpointer); absent unless the server runs on this Linux machine. */
  serverCpuMicrosPerRecord?: number;
  /** WAL the server wrote, from its insert position. */
  walBytesPerRecord: number;
}

/**
 * Meters the server from `start` to `stop`. Both figures are server-wide, so other clients of the
 * server count too (run under the bench lock, with nothing else writing); other servers on the
 * machine do not. Stop before the measured connections close: a backend that has exited no
 * longer shows its CPU.
 */
export class ServerMeter {
  private constructor(
    private readonly client: pg.Client,
    /** The server's postmaster, whose children are its processes; undefined when it runs elsewhere. */
    private readonly postmaster: number | undefined,
    private readonly cpuBefore: number,
    private readonly walBefore: string,
  ) {}

  static async start(url: string): Promise<ServerMeter> {
    const client = new pg.Client({ connectionString: url, options: NO_JIT });
    await client.connect();
    const { rows } = await client.query<{ lsn: string; pid: number }>('SELECT pg_current_wal_insert_lsn()::text AS lsn, pg_backend_pid() AS pid');
    const postmaster = isLocal(url) ? statOf(String(rows[0]!.pid))?.parent : undefined;
    return new ServerMeter(client, postmaster, postmaster === undefined ? 0 : serverCpuSeconds(postmaster), rows[0]!.lsn);
  }

  async stop(records: number): Promise<ServerCost> {
    const cpu = this.postmaster === undefined ? undefined : serverCpuSeconds(this.postmaster) - this.cpuBefore;
    try {
      const { rows } = await this.client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS bytes', [this.walBefore]);
      const cost: ServerCost = { walBytesPerRecord: Math.round(Number(rows[0]!.bytes) / records) };
      if (cpu !== undefined) cost.serverCpuMicrosPerRecord = Math.round((cpu / records) * 1e6);
      return cost;
    } finally {
      await this.client.end();
    }
  }
}

function isLocal(url: string): boolean {
  return existsSync('/proc/self/stat') && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
}

/** Linux counts process CPU in clock ticks of 1/100 s (USER_HZ, 100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;

/** User and system CPU of the postmaster and its children, in seconds. */
function serverCpuSeconds(postmaster: number): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = statOf(pid);
    if (stat && (stat.parent === postmaster || Number(pid) === postmaster)) ticks += stat.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

/** A process's parent and CPU ticks (user + system), or undefined once it has ended. */
function statOf(pid: string): { parent: number; ticks: number } | undefined {
  try {
    // The fields after the parenthesised command name: ppid is the 2nd, utime and stime the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}
