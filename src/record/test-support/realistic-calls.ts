import type { RecordInput } from '../types.js';

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'claude-haiku-4', 'o3-mini'];

/** A realistic call record: about twenty envelope fields, 1-2 KB as canonical JSON. */
export function realisticCall(i: number): RecordInput {
  const model = MODELS[i % MODELS.length]!;
  return {
    traceId: `trace-${Math.floor(i / 3)}`,
    provider: model.startsWith('claude') ? 'anthropic' : 'openai',
    model,
    endpoint: model.startsWith('claude') ? '/v1/messages' : '/v1/chat/completions',
    user: `user-${i % 500}`,
    tenant: `tenant-${i % 20}`,
    session: `session-${i % 5000}`,
    conversation: `conversation-${i % 20000}`,
    apiKey: `sk-bench-${i % 50}-abcdefghijklmnopqrstuvwxyz0123`,
    status: i % 50 === 0 ? 'error' : 'success',
    httpStatus: i % 50 === 0 ? 500 : 200,
    inputTokens: 200 + (i % 3000),
    outputTokens: 50 + (i % 800),
    reasoningTokens: i % 7 === 0 ? 120 : 0,
    cachedTokens: i % 5 === 0 ? 100 : 0,
    latencyMs: 150 + (i % 2000),
    ttftMs: 40 + (i % 300),
    costUsd: ((200 + (i % 3000)) * 2.5 + (50 + (i % 800)) * 10) / 1e6,
    safety: { passed: true, detectors: ['email', 'card'], sanitized: i % 3 },
    toolsProvided: i % 4,
    toolCalls: i % 2,
    stopReason: i % 2 ? 'tool_calls' : 'stop',
    messageCount: 2 + (i % 12),
    content: { system: 'You are a careful assistant for a regulated bank.', input: `question number ${i} `.repeat(20), output: `answer ${i} `.repeat(30) },
    metadata: {
      app: 'loan-assistant',
      region: 'eu-west-1',
      environment: 'production',
      feature: `feature-${i % 40}`,
      experiment: { id: `exp-${i % 9}`, arm: i % 2 ? 'control' : 'treatment' },
      labels: ['kyc', 'underwriting', 'customer-facing'],
      notes: 'x'.repeat(300),
    },
  };
}
