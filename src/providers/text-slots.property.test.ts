import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters.js';
import { isObject } from './json-fields.js';
import { anthropicReply } from './simulated/fake-anthropic.js';
import { openAIReply } from './simulated/fake-openai.js';
import type { FakeReply } from './simulated/fake-reply.js';
import type { Scenario } from './simulated/fake-scenarios.js';
import { chatRequest, messagesRequest, responsesRequest } from './test-support/sample-requests.js';
import { answerBody, decodeReply } from './test-support/slot-helpers.js';
import type { EndpointName, ProviderAdapter, TextSlot } from './types.js';

/**
 * Bodies come from outside, so the slot readers are tried on real bodies (the sample requests, the
 * fake upstream's answers and stream events), mostly of their own format and sometimes of
 * another, each bent in up to three places: a node replaced by random JSON or by a type name, or
 * removed. Most then look nearly right and go wrong somewhere, where a reader is most likely to
 * trip. Plain random JSON is tried too.
 */
type BodyKind = 'request' | 'answer' | 'event';
type Samples = Record<BodyKind, unknown[]>;

function fakeSamples(request: unknown, reply: (scenario: Scenario, stream: boolean) => FakeReply): Samples {
  const scenarios: Scenario[] = ['answer', 'tool'];
  return {
    request: [request],
    answer: scenarios.map((scenario) => answerBody(reply(scenario, false))),
    event: scenarios.flatMap((scenario) => decodeReply(reply(scenario, true)).events.map((event) => event.data)),
  };
}

const openAI = (path: string) => (scenario: Scenario, stream: boolean) =>
  openAIReply(path, { model: 'gpt-4o', input: 'hi', prompt: 'hi', stream, stream_options: { include_usage: true } }, scenario);
const SAMPLES: Record<EndpointName, Samples> = {
  'chat.completions': fakeSamples(chatRequest(), openAI('/v1/chat/completions')),
  responses: fakeSamples(responsesRequest(), openAI('/v1/responses')),
  completions: fakeSamples({ prompt: ['Say', [1, 2], 'hello'] }, openAI('/v1/completions')),
  embeddings: { request: [{ input: ['first', [1, 2], 'second'] }], answer: [answerBody(openAI('/v1/embeddings')('answer', false))], event: [] },
  messages: fakeSamples(messagesRequest(), (scenario, stream) =>
    anthropicReply({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: [], stream, thinking: { type: 'enabled', budget_tokens: 1024 } }, scenario),
  ),
};
const TYPE_NAMES = [
  'text',
  'refusal',
  'input_text',
  'output_text',
  'message',
  'function_call_output',
  'tool_result',
  'document',
  'text_delta',
  'response.output_text.delta',
  'response.completed',
  'constructor',
  '__proto__',
];

type Path = Array<string | number>;

function nodePaths(value: unknown, path: Path = []): Path[] {
  const children: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((child, index) => [index, child])
    : isObject(value)
      ? Object.entries(value)
      : [];
  return [path, ...children.flatMap(([key, child]) => nodePaths(child, [...path, key]))];
}

/** Puts `replacement` at `path` (undefined removes an object's field), returning the new root. */
function replaceAt(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement ?? null;
  const parent = path.slice(0, -1).reduce((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string | number, unknown>;
  const key = path.at(-1)!;
  if (replacement === undefined && !Array.isArray(parent)) delete parent[key];
  else parent[key] = replacement ?? null;
  return root;
}

const mutation = fc.tuple(fc.nat(), fc.oneof(fc.constant(undefined), fc.constantFrom(...TYPE_NAMES), fc.jsonValue({ maxDepth: 2 })));

function bent(samples: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...samples), fc.array(mutation, { maxLength: 3 })).map(([sample, mutations]) =>
    mutations.reduce((body, [at, replacement]) => {
      const paths = nodePaths(body);
      return replaceAt(body, paths[at % paths.length]!, replacement);
    }, structuredClone(sample)),
  );
}

function bodies(endpoint: EndpointName, kind: BodyKind): fc.Arbitrary<unknown> {
  const own = SAMPLES[endpoint][kind];
  const any = Object.values(SAMPLES).flatMap((samples) => [...samples.request, ...samples.answer, ...samples.event]);
  const choices = [
    { weight: 1, arbitrary: bent(any) },
    { weight: 1, arbitrary: fc.jsonValue() },
  ];
  return fc.oneof(...(own.length > 0 ? [{ weight: 4, arbitrary: bent(own) }] : []), ...choices);
}

type Reader = (adapter: ProviderAdapter, value: unknown) => TextSlot[];
const READERS: Array<[string, BodyKind, Reader]> = [
  ['requestTexts', 'request', (adapter, value) => adapter.requestTexts(value as Record<string, unknown>)],
  ['responseTexts', 'answer', (adapter, value) => adapter.responseTexts(value as Record<string, unknown>)],
  ['streamTexts', 'event', (adapter, value) => adapter.streamTexts({ data: value })],
];

describe.each(ADAPTERS.map((adapter) => [adapter.path, adapter] as const))('text slots of %s on bent and random bodies', (_path, adapter) => {
  it.each(READERS)('%s never throws, and each slot writes exactly the field it read', (_name, kind, read) => {
    fc.assert(
      fc.property(bodies(adapter.endpoint, kind), (value) => {
        const original = structuredClone(value);
        const slots = read(adapter, value);
        slots.forEach((slot, index) => slot.set(`«${index}»`));
        const reread = read(adapter, value);
        // One distinct field per slot: were two slots one field, its last marker would show twice.
        expect(reread.map((slot) => slot.text)).toEqual(slots.map((_, index) => `«${index}»`));
        reread.forEach((slot, index) => slot.set(slots[index]!.text));
        expect(value).toEqual(original);
      }),
      { numRuns: 300 },
    );
  });

  it('reads and writes the output cap of any body without throwing', () => {
    fc.assert(
      fc.property(bodies(adapter.endpoint, 'request'), fc.integer({ min: 1, max: 100_000 }), (value, cap) => {
        const limit = adapter.outputTokenLimit;
        limit.read(value as Record<string, unknown>);
        limit.write(value as Record<string, unknown>, cap);
        const capped = isObject(value) && adapter.endpoint !== 'embeddings';
        expect(limit.read(value as Record<string, unknown>)).toBe(capped ? cap : undefined);
      }),
    );
  });
});
