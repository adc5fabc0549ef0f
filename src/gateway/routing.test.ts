import { describe, expect, it } from 'vitest';
import { globPattern, Router } from './routing.js';
import type { UpstreamProvider } from './settings.js';

const openai: UpstreamProvider = { name: 'openai', format: 'openai', baseUrl: 'https://api.openai.com' };
const vllm: UpstreamProvider = { name: 'vllm', format: 'openai', baseUrl: 'http://127.0.0.1:8000' };
const anthropic: UpstreamProvider = { name: 'anthropic', format: 'anthropic', baseUrl: 'https://api.anthropic.com' };

describe('globPattern', () => {
  it('treats * as any run of characters, matches in any case, and nothing else as special', () => {
    expect(globPattern('gpt-*').test('GPT-4o')).toBe(true);
    expect(globPattern('gpt-*').test('my-gpt-4o')).toBe(false);
    expect(globPattern('llama-3.1-*b').test('llama-3.1-70b')).toBe(true);
    expect(globPattern('llama-3.1-*b').test('llama-301-70b')).toBe(false);
    expect(globPattern('a+b(c)').test('a+b(c)')).toBe(true);
  });
});

describe('Router', () => {
  const router = new Router([openai, vllm, anthropic], [
    { match: 'llama-*', provider: 'vllm' },
    { match: 'claude-*', provider: 'anthropic' },
  ]);

  it('takes the first matching route', () => {
    expect(router.route('llama-3-70b', 'openai')).toEqual({ provider: vllm });
    expect(router.route('claude-sonnet-4', 'anthropic')).toEqual({ provider: anthropic });
  });

  it('sends a model no route names to the first provider of the endpoint format', () => {
    expect(router.route('gpt-4o', 'openai')).toEqual({ provider: openai });
    expect(router.route('some-new-model', 'anthropic')).toEqual({ provider: anthropic });
  });

  it('refuses a model routed to a provider of the other format, saying where to call it', () => {
    expect(router.route('claude-sonnet-4', 'openai')).toEqual({ problem: expect.stringMatching(/routed to provider "anthropic", which speaks the anthropic format; call it through \/v1\/messages/) });
  });

  it('says when no provider speaks the format at all', () => {
    expect(new Router([openai], []).route('claude-x', 'anthropic')).toEqual({ problem: 'no configured provider speaks the anthropic format; add one under gateway.providers' });
  });
});
