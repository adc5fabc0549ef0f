import { describe, expect, it } from 'vitest';
import { Router, type RoutePlan } from './routing.js';
import type { UpstreamProvider } from '../upstream-provider.js';

const openai: UpstreamProvider = { name: 'openai', format: 'openai', baseUrl: 'https://api.openai.com' };
const vllm: UpstreamProvider = { name: 'vllm', format: 'openai', baseUrl: 'http://127.0.0.1:8000' };
const azure: UpstreamProvider = { name: 'azure', format: 'openai', baseUrl: 'https://example.openai.azure.com' };
const anthropic: UpstreamProvider = { name: 'anthropic', format: 'anthropic', baseUrl: 'https://api.anthropic.com' };

const defaults = { maxRetries: 0, initialBackoffMs: 250, maxBackoffMs: 8000, attemptTimeoutMs: 600_000, maxRetryAfterMs: 30_000 };
const plan = (result: ReturnType<Router['route']>): RoutePlan => {
  if ('problem' in result) throw new Error(result.problem);
  return result.plan;
};

describe('Router', () => {
  const router = new Router(
    [openai, vllm, azure, anthropic],
    [
      { match: 'llama-*', targets: [{ provider: 'vllm' }] },
      { match: 'claude-*', targets: [{ provider: 'anthropic' }] },
      {
        match: 'gpt-4o',
        targets: [{ provider: 'openai' }, { provider: 'azure', model: 'gpt-4o-2024-08-06' }],
        retry: { maxRetries: 2, attemptTimeoutMs: 5000 },
      },
    ],
    { initialBackoffMs: 100 },
    600_000,
  );

  it('takes the first matching route', () => {
    expect(plan(router.route('llama-3-70b', 'openai')).targets).toEqual([{ provider: vllm }]);
    expect(plan(router.route('claude-sonnet-4', 'anthropic')).targets).toEqual([{ provider: anthropic }]);
  });

  it("lists a route's providers in order, with each one's model name, and merges its retry settings over the gateway's", () => {
    expect(plan(router.route('GPT-4o', 'openai'))).toEqual({
      targets: [{ provider: openai }, { provider: azure, model: 'gpt-4o-2024-08-06' }],
      retry: { ...defaults, initialBackoffMs: 100, maxRetries: 2, attemptTimeoutMs: 5000 },
    });
  });

  it("sends a model no route names to the first provider of the endpoint format, with the gateway's retry settings", () => {
    expect(plan(router.route('gpt-4o-mini', 'openai'))).toEqual({ targets: [{ provider: openai }], retry: { ...defaults, initialBackoffMs: 100 } });
    expect(plan(router.route('some-new-model', 'anthropic')).targets).toEqual([{ provider: anthropic }]);
  });

  it('refuses a model routed to a provider of the other format, saying where to call it', () => {
    expect(router.route('claude-sonnet-4', 'openai')).toEqual({
      problem: expect.stringMatching(/routed to provider "anthropic", which speaks the anthropic format; call it through \/v1\/messages/),
    });
  });

  it('says when no provider speaks the format at all', () => {
    expect(new Router([openai], [], {}, 1000).route('claude-x', 'anthropic')).toEqual({
      problem: 'no configured provider speaks the anthropic format; add one under gateway.providers',
    });
  });
});
