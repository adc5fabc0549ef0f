import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../store/store.js';
import { RecordValidationError } from '../record/errors.js';
import { FAKE_ANSWER } from '../providers/simulated/fake-scenarios.js';
import { auditAnthropic } from './anthropic.js';
import { flushAudit } from './flush.js';
import { auditOpenAI } from './openai.js';
import { CLIENT_KEY, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

// A ledger that cannot record never breaks the application's call: the SDK's answer comes back
// as always, and the failure goes to onLedgerError (by default one console.warn line, no text).

let h: SdkHarness;
beforeAll(async () => {
  h = await startSdkHarness();
});
afterAll(() => h.close());

const PROMPT = 'my secret prompt about project nightingale';
const messages = [{ role: 'user' as const, content: PROMPT }];

describe('when the ledger cannot record', () => {
  it('still answers, streams included, and reports the store failure with the call’s endpoint and model', async () => {
    const client = h.openai();
    h.ledgerErrors.length = 0;
    h.store.down = true;
    try {
      const completion = await client.chat.completions.create({ model: 'gpt-4o', messages });
      expect(completion.choices[0]!.message.content).toBe(FAKE_ANSWER);
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe(FAKE_ANSWER);
      await flushAudit(client);
    } finally {
      h.store.down = false;
    }
    await outageRecorded();
    expect(h.ledgerErrors).toHaveLength(2);
    for (const { error, call } of h.ledgerErrors) {
      expect(error).toBeInstanceOf(StoreError);
      expect(call).toEqual({ provider: 'openai', endpoint: 'chat.completions', model: 'gpt-4o' });
    }
  });

  it('warns on the console by default, naming the endpoint and the error but never the prompt', async () => {
    const client = auditOpenAI(new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0 }), h.ledger, { metadata: { bad: Number.NaN } });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await client.chat.completions.create({ model: 'gpt-4o', messages });
      await flushAudit(client);
      expect(warn).toHaveBeenCalledTimes(1);
      const line = String(warn.mock.calls[0]![0]);
      expect(line).toMatch(/^llm-ledger: a openai chat\.completions call was not recorded \(RecordValidationError: .*metadata/);
      expect(line).not.toContain('nightingale');
    } finally {
      warn.mockRestore();
    }
  });

  it('reports an option function that throws, and records the call without that field', async () => {
    const client = h.anthropic({
      user: () => {
        throw new Error('no user in this context');
      },
      session: 's-9',
    });
    h.ledgerErrors.length = 0;
    const message = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages });
    expect(message.content[0]).toMatchObject({ text: FAKE_ANSWER });
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ session: 's-9', status: 'success' });
    expect(record.user).toBeUndefined();
    expect(h.ledgerErrors.map((e) => (e.error as Error).message)).toEqual(['no user in this context']);
  });

  it('survives an onLedgerError handler that throws', async () => {
    const client = h.openai({
      metadata: { bad: Number.POSITIVE_INFINITY },
      onLedgerError: () => {
        throw new Error('handler bug');
      },
    });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages });
    expect(completion.choices[0]!.message.content).toBe(FAKE_ANSWER);
    await expect(flushAudit(client)).resolves.toBeUndefined();
  });

  it('names the bad metadata field when the ledger refuses a record', async () => {
    const client = h.openai({ metadata: { bad: Number.NaN } });
    h.ledgerErrors.length = 0;
    await client.chat.completions.create({ model: 'gpt-4o', messages });
    await flushAudit(client);
    expect(h.ledgerErrors).toHaveLength(1);
    expect(h.ledgerErrors[0]!.error).toBeInstanceOf(RecordValidationError);
  });
});

/**
 * Once the store is back the ledger records the outage as an event of its own, on its retry
 * timer; waiting for it (and its checkpoint) keeps it out of the next tests' records.
 */
async function outageRecorded(): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const { records } = await h.ledger.search({ kind: 'event', eventType: 'store_outage' });
    if (records.length > 0) return h.ledger.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the ledger never recorded the store outage');
}

describe('wrapping rules', () => {
  it('refuses to audit a client twice, which would record every call twice', () => {
    const client = h.openai();
    expect(() => auditOpenAI(client, h.ledger)).toThrow(/already audited/);
    const anthropic = h.anthropic();
    expect(() => auditAnthropic(anthropic, h.ledger)).toThrow(/already audited/);
  });

  it('tells flushAudit callers to pass an audited client', async () => {
    await expect(flushAudit(new Anthropic({ apiKey: CLIENT_KEY }))).rejects.toThrow(/needs a client returned by auditOpenAI or auditAnthropic/);
  });

  it('keeps auditing a clone given its own fetch', async () => {
    let fetched = 0;
    const ownFetch: typeof fetch = (input, init) => {
      fetched += 1;
      return fetch(input, init);
    };
    const client = h.openai({ session: 'clone' }).withOptions({ fetch: ownFetch });
    const before = await h.callCount(client);
    await client.chat.completions.create({ model: 'gpt-4o', messages });
    expect(fetched).toBe(1);
    expect(await h.callCount(client)).toBe(before + 1);
    expect(await h.lastCall(client)).toMatchObject({ session: 'clone', status: 'success' });
  });

  it('keeps auditing an Anthropic clone given its own middleware, which still runs', async () => {
    const seen: string[] = [];
    const client = h.anthropic({ session: 'mw' }).withOptions({
      middleware: [
        async (request, next) => {
          seen.push(new URL(request.url).pathname);
          return next(request);
        },
      ],
    });
    await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages });
    expect(seen).toEqual(['/v1/messages']);
    expect(await h.lastCall(client)).toMatchObject({ session: 'mw', endpoint: 'messages', status: 'success' });
  });

  it('does not keep the key when asked not to', async () => {
    const client = h.anthropic({ recordApiKey: false });
    await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages });
    const record = await h.lastCall(client);
    expect(record.apiKeyHash).toBeUndefined();
    expect(record.apiKeyPrefix).toBeUndefined();
  });
});
