import { describe, expect, it } from 'vitest';
import { openAIResponsesAdapter as adapter } from './openai-responses.js';
import { openAIReply } from './simulated/fake-openai.js';
import { FAKE_ANSWER } from './simulated/fake-scenarios.js';
import { replay } from './test-support/replay.js';
import { responsesRequest } from './test-support/sample-requests.js';
import { answerBody, decodeReply, deltaTextByChannel, encode, mask, rewriteStream, upperCaseAll, type DecodedStream } from './test-support/slot-helpers.js';
import type { StreamEvent } from './types.js';

// Samples follow the Responses API wire format; streams come from the fake upstream.

describe('OpenAI Responses: request texts', () => {
  it('lists instructions, then message contents and tool outputs, in body order; not calls or reasoning', () => {
    expect(adapter.requestTexts(responsesRequest()).map((slot) => slot.text)).toEqual([
      'You are terse.',
      'Use metric units.',
      'What is in this picture?',
      'And the weather in Paris?',
      'A cat.',
      '18C and sunny',
      'humidity 40%',
      'Thanks!',
    ]);
  });

  it('writes each replacement where its text was, and nothing else moves', () => {
    const body = responsesRequest();
    upperCaseAll(adapter.requestTexts(body));
    const expected = {
      model: 'gpt-4.1',
      instructions: 'YOU ARE TERSE.',
      input: [
        { role: 'developer', content: 'USE METRIC UNITS.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'WHAT IS IN THIS PICTURE?' },
            { type: 'input_image', image_url: 'https://example.test/cat.png', detail: 'auto' },
            { type: 'input_file', file_id: 'file_1' },
            { type: 'input_text', text: 'AND THE WEATHER IN PARIS?' },
          ],
        },
        { type: 'message', id: 'msg_0', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A CAT.', annotations: [] }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Needs the weather.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18C AND SUNNY' },
        { type: 'custom_tool_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'HUMIDITY 40%' }] },
        { type: 'item_reference', id: 'msg_earlier' },
        { role: 'user', content: 'THANKS!' },
      ],
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object' } }],
      max_output_tokens: 500,
    };
    expect(JSON.stringify(body)).toBe(JSON.stringify(expected));
  });

  it('reads a string input, which stays a string', () => {
    const body = { model: 'o3', instructions: 'Be terse.', input: 'Weather?' };
    upperCaseAll(adapter.requestTexts(body));
    expect(body).toEqual({ model: 'o3', instructions: 'BE TERSE.', input: 'WEATHER?' });
  });

  it('gives no slot for mistyped fields', () => {
    expect(
      adapter.requestTexts({
        instructions: 1,
        input: [{ type: 'function_call_output', output: { text: 'x' } }, { role: 'user', content: [{ type: 'input_text' }] }, 3],
      }),
    ).toEqual([]);
  });
});

const message = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [
    { type: 'output_text', text: 'It is 18C.', annotations: [] },
    { type: 'refusal', refusal: 'No more.' },
  ],
};
const call = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
const reasoning = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking about weather.' }] };

describe('OpenAI Responses: answer texts', () => {
  it("lists the fake upstream's answer, and writes its replacement in place", () => {
    const body = answerBody(openAIReply('/v1/responses', { model: 'gpt-4o', input: 'hi' }, 'answer'));
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual([FAKE_ANSWER]);
    slots[0]!.set('[redacted]');
    expect(adapter.describeResponse(body, 200).output).toBe('[redacted]');
  });

  it('lists output_text and refusal parts of messages, then the joined output_text copy; not calls or reasoning', () => {
    const body = { object: 'response', output: [reasoning, call, message], output_text: 'It is 18C.' };
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual(['It is 18C.', 'No more.', 'It is 18C.']);
    upperCaseAll(slots);
    expect(body).toEqual({
      object: 'response',
      output: [
        reasoning,
        call,
        {
          ...message,
          content: [
            { type: 'output_text', text: 'IT IS 18C.', annotations: [] },
            { type: 'refusal', refusal: 'NO MORE.' },
          ],
        },
      ],
      output_text: 'IT IS 18C.',
    });
  });
});

/** Each slot of a stream as `event type, kind, channel, text`, to read the whole sequence at once. */
function slotTable(stream: DecodedStream): string[] {
  return stream.events.flatMap((event) =>
    adapter.streamTexts(event).map((slot) => `${(event.data as { type: string }).type} ${slot.kind} ${slot.channel} ${slot.text}`),
  );
}

describe('OpenAI Responses: stream texts', () => {
  const fakeStream = () => decodeReply(openAIReply('/v1/responses', { model: 'gpt-4o', input: 'hi', stream: true }, 'answer'));

  it("joins the fake upstream's deltas on channel output:content into the text the accumulator reports", () => {
    const stream = fakeStream();
    expect(deltaTextByChannel(adapter, stream)).toEqual({ '0:0': FAKE_ANSWER });
    expect(replay(adapter, encode(stream)).output).toBe(FAKE_ANSWER);
  });

  it('gives every copy of the part the API repeats as a whole slot on the deltas’ channel', () => {
    const wholes = slotTable(fakeStream()).filter((row) => !row.includes(' delta '));
    expect(wholes).toEqual([
      'response.content_part.added whole 0:0 ',
      `response.output_text.done whole 0:0 ${FAKE_ANSWER}`,
      `response.content_part.done whole 0:0 ${FAKE_ANSWER}`,
      `response.output_item.done whole 0:0 ${FAKE_ANSWER}`,
      `response.completed whole 0:0 ${FAKE_ANSWER}`,
    ]);
  });

  it('leaks the original through the closing events when only the deltas are redacted', () => {
    const stream = fakeStream();
    rewriteStream(adapter, stream, ['delta'], mask);
    const sent = encode(stream);
    // The accumulator, like the SDKs, takes the final text from response.completed.
    expect(replay(adapter, sent).output).toBe(FAKE_ANSWER);
    expect(sent).toContain('Bonjour');
  });

  it('carries only the redacted text once the whole slots are rewritten too', () => {
    const stream = fakeStream();
    rewriteStream(adapter, stream, ['delta', 'whole'], mask);
    const sent = encode(stream);
    expect(replay(adapter, sent)).toMatchObject({ output: mask(FAKE_ANSWER), stream: { completed: true, malformedEvents: 0 } });
    expect(sent).not.toContain('Bonjour');
  });

  it('follows a refusal in a later output item, ended by response.incomplete, on its own channel', () => {
    const part = { type: 'refusal', refusal: '' };
    const refused = { id: 'msg_2', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help.' }] };
    const events: StreamEvent[] = [
      { type: 'response.output_item.added', output_index: 0, item: reasoning },
      { type: 'response.output_item.added', output_index: 1, item: { ...refused, status: 'in_progress', content: [] } },
      { type: 'response.content_part.added', output_index: 1, content_index: 0, part },
      { type: 'response.refusal.delta', output_index: 1, content_index: 0, delta: 'I cannot' },
      { type: 'response.refusal.delta', output_index: 1, content_index: 0, delta: ' help.' },
      { type: 'response.refusal.done', output_index: 1, content_index: 0, refusal: 'I cannot help.' },
      { type: 'response.content_part.done', output_index: 1, content_index: 0, part: { ...part, refusal: 'I cannot help.' } },
      { type: 'response.output_item.done', output_index: 1, item: refused },
      { type: 'response.incomplete', response: { status: 'incomplete', output: [reasoning, refused], incomplete_details: { reason: 'content_filter' } } },
    ].map((data) => ({ event: data.type, data }));
    const stream = { events, done: false };
    expect(slotTable(stream)).toEqual([
      'response.content_part.added whole 1:0 ',
      'response.refusal.delta delta 1:0 I cannot',
      'response.refusal.delta delta 1:0  help.',
      'response.refusal.done whole 1:0 I cannot help.',
      'response.content_part.done whole 1:0 I cannot help.',
      'response.output_item.done whole 1:0 I cannot help.',
      'response.incomplete whole 1:0 I cannot help.',
    ]);
    rewriteStream(adapter, stream, ['delta', 'whole'], mask);
    expect(encode(stream)).not.toContain('help');
    expect(replay(adapter, encode(stream)).output).toBe(mask('I cannot help.'));
  });
});

describe('OpenAI Responses: output token limit', () => {
  it('reads and writes max_output_tokens', () => {
    const body: Record<string, unknown> = { model: 'o3' };
    expect(adapter.outputTokenLimit.read(body)).toBeUndefined();
    adapter.outputTokenLimit.write(body, 1000);
    expect(body).toEqual({ model: 'o3', max_output_tokens: 1000 });
    expect(adapter.outputTokenLimit.read(body)).toBe(1000);
  });
});
