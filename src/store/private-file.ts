import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files the ledger creates are readable by their owner only (0600) and the directories it creates
 * are 0700: records, their metadata and checkpoints are nobody else's business on a shared machine.
 * The mode is given when the file is created, so there is no moment when it is readable by others;
 * a file or directory that exists already keeps the mode its owner gave it.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;

/** Creates `dir` and any missing parents with mode 0700; an existing directory is left as it is. */
export function makePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
}

/**
 * Creates an empty `file` with mode 0600 (and its missing directories with 0700) unless it exists.
 * SQLite then finds an empty database and gives its -wal and -shm files the database file's mode.
 */
export function createPrivateFile(file: string): void {
  makePrivateDirectory(dirname(file));
  let fd: number;
  try {
    fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  closeSync(fd);
}
