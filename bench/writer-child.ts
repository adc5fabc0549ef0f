import { createInterface } from 'node:readline';

/**
 * The side of a writer process (postgres-writer.ts, calls-writer.ts) that its parent talks to:
 * says `ready`, runs `work` on `go` and says `done` with the CPU microseconds it took, and on
 * `close` closes the ledger, says `closed` and exits.
 */
export async function answerParent(ledger: { close(): Promise<unknown> }, work: () => Promise<unknown>): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'go') {
      const cpu = process.cpuUsage();
      await work();
      const spent = process.cpuUsage(cpu);
      say(`done ${spent.user + spent.system}`);
    } else if (line === 'close') {
      await ledger.close();
      say('closed');
      process.exit(0);
    }
  }
}
