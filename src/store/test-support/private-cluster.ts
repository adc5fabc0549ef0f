import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The server binaries (initdb, pg_ctl) of the newest PostgreSQL installed, if any. */
function serverBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/** Why a private cluster cannot be made here, or undefined when it can. */
export function privateClusterUnavailable(): string | undefined {
  if (!serverBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
  // The server refuses to run as root, so it runs as the postgres user; only root can switch to it.
  if (process.getuid?.() !== 0) return 'making a private cluster needs root (to run it as the postgres user)';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL cluster of a test's own: initdb in a temporary directory, listening on a free port
 * on 127.0.0.1 only, which the test can stop and start again (to cut the store off mid-load).
 */
export class PrivateCluster {
  /** The processes `freeze` stopped, for `thaw`. */
  private frozen: number[] = [];

  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivateCluster> {
    const bin = serverBin()!;
    const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
    const cluster = new PrivateCluster(bin, dir, await freePort());
    await cluster.asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await cluster.start();
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir}`;
    await this.asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'server.log'), '-o', options, '-w', 'start']);
  }

  /** `fast` ends every session at once (what a failover or restart does); `immediate` is a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }

  /**
   * SIGSTOP to every process of the server: the postmaster first (so it starts no new ones), then
   * its children (backends, background workers). Connections stay open and nothing answers, as
   * with a network partition or a stuck disk: no error comes back, only silence.
   */
  freeze(): void {
    const postmaster = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
    process.kill(postmaster, 'SIGSTOP');
    this.frozen = [postmaster, ...childrenOf(postmaster)];
    for (const pid of this.frozen.slice(1)) process.kill(pid, 'SIGSTOP');
  }

  /** SIGCONT to every process `freeze` stopped. */
  thaw(): void {
    for (const pid of this.frozen.reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone meanwhile.
      }
    }
    this.frozen = [];
  }

  async destroy(): Promise<void> {
    this.thaw();
    try {
      await this.stop('immediate');
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Asynchronous, so the load a test puts on the cluster goes on while it stops and starts. */
  private async asPostgres(tool: string, args: string[]): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args], { cwd: this.dir });
  }
}

/** The processes whose parent is `pid`, from /proc (`pid (comm) state ppid ...`; comm may hold spaces and parentheses). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Ended while being read.
    }
  }
  return children;
}
