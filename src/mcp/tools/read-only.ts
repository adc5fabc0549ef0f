import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/** Every audit tool only reads the ledger and touches nothing outside it. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
