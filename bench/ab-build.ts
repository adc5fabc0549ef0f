import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface OtherBuild {
  /** The commit it was built from. */
  commit: string;
  /** Its `dist` folder. */
  dist: string;
  /** Its compiled benchmarks: `bench-build/bench` (from bench/), or `dist/bench` in revisions that shipped them in src/bench. */
  bench: string;
  remove(): void;
}

/**
 * Builds a git revision of this repository beside the checkout: a detached worktree in a
 * temporary folder, this checkout's node_modules linked in (the revision's own dependencies are
 * assumed to be the same), compiled with this checkout's TypeScript.
 */
export function buildRevision(revision: string, repository = process.cwd()): OtherBuild {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repository, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${revision}^{commit}`);
  const folder = mkdtempSync(join(tmpdir(), 'llm-ledger-ab-'));
  git('worktree', 'add', '--detach', folder, commit);
  const remove = () => {
    git('worktree', 'remove', '--force', folder);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    symlinkSync(resolve(repository, 'node_modules'), join(folder, 'node_modules'), 'dir');
    const tsc = (project: string) =>
      execFileSync(process.execPath, [resolve(repository, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: folder, stdio: 'inherit' });
    tsc('tsconfig.build.json');
    if (existsSync(join(folder, 'tsconfig.bench.json'))) tsc('tsconfig.bench.json');
  } catch (err) {
    remove();
    throw new Error(`could not build ${revision} (${commit.slice(0, 12)}): ${(err as Error).message}`, { cause: err });
  }
  const bench = existsSync(join(folder, 'tsconfig.bench.json')) ? join(folder, 'bench-build', 'bench') : join(folder, 'dist', 'bench');
  return { commit, dist: join(folder, 'dist'), bench, remove };
}
