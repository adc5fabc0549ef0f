/**
 * A reader that stops early (`llm-ledger search | head -2`, `llm-ledger --help | head -1`) closes
 * the pipe, and Node, which ignores SIGPIPE, reports the next write as an EPIPE 'error' event on
 * process.stdout: unhandled, it ended the command with a stack trace and exit code 1 (which here
 * means "verification failed"). Once the output is closed nobody reads it any more, so the error
 * is dropped: the stream is destroyed, later writes are discarded, and the command finishes (a
 * writing one, say `serve` or `demo`, without losing records) and exits with its own code, 0 for
 * a command that succeeded. Any other error on these streams is thrown as before.
 */
export function ignoreClosedOutput(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
