import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DateArgumentError } from '../ledger/date-arguments.js';
import { LedgerError } from '../ledger/ledger.js';

/** A problem with the arguments or the thing they name: told to the caller, not thrown. */
export class ToolArgumentError extends Error {
  override readonly name = 'ToolArgumentError';
}

/**
 * A successful result: a short human summary first, then the same data as JSON text for clients
 * that ignore structuredContent (the MCP specification asks for both), and the structured data.
 */
export function toolResult(summary: string, data: Record<string, unknown>): CallToolResult {
  return {
    content: [
      { type: 'text', text: summary },
      { type: 'text', text: JSON.stringify(data) },
    ],
    structuredContent: data,
  };
}

export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Runs a tool body so that every failure becomes an `isError` result the assistant can read and
 * act on. Bad arguments say what to change; anything else says the ledger could not be read.
 */
export async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ToolArgumentError || err instanceof DateArgumentError || err instanceof LedgerError) return toolError(err.message);
    return toolError(`the ledger could not be read: ${(err as Error).message}`);
  }
}
