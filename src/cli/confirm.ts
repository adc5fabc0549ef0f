import { createInterface } from 'node:readline/promises';
import { UsageError } from './exit-codes.js';
import { printable } from '../ledger/printable.js';

/**
 * Asks the person at the terminal to type `expected` to go ahead with something that cannot be
 * undone. Off a terminal (a script, a pipe) nobody can answer, so it refuses and names --yes
 * instead of guessing.
 */
export async function confirmByTyping(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('this cannot be undone and needs confirmation, but stdin is not a terminal; pass --yes to confirm');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "${printable(expected)}" to confirm: `);
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}
