import { anthropicReply } from './fake-anthropic.js';
import { openAIReply } from './fake-openai.js';
import { jsonReply, sseFrame, type FakeReply } from './fake-reply.js';
import type { Scenario } from './fake-scenarios.js';

type Body = Record<string, unknown>;

/** Text planted in every invalid answer, so tests can check that none of it reaches a record. */
export const FAKE_INVALID_TEXT = 'upstream-body-text-5e1d';

const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

/** Bytes that are no JSON and not even UTF-8: what a broken proxy or a binary error page sends. */
export const FAKE_GARBAGE = Buffer.concat([
  Buffer.from([0xff, 0xfe, 0x00, 0x9c]),
  Buffer.from(` ${FAKE_INVALID_TEXT} \u0000{{`),
  Buffer.from([0xc3, 0x28, 0x0a]),
]);
/** Events with data that is not JSON, a line that is no SSE field, and a comment: nothing an adapter can read. */
export const FAKE_GARBAGE_STREAM = Buffer.concat([
  Buffer.from(`: proxy\n\ndata: ${FAKE_INVALID_TEXT}\n\nthis is not a field\n\ndata: <html>\n\ndata: `),
  Buffer.from([0xff, 0xfe, 0x0a, 0x0a]),
]);
export const FAKE_HTML = `<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>${FAKE_INVALID_TEXT}</h1></body></html>\n`;

/**
 * The invalid-answer scenarios: each a 200 whose body is not an answer of the wire format (see
 * answer-validity.ts), plain or streamed as the request asked, on every endpoint. Undefined for
 * any other scenario.
 */
export function invalidReply(scenario: Scenario, path: string, body: Body, anthropic: boolean): FakeReply | undefined {
  const stream = body.stream === true;
  switch (scenario) {
    case 'garbage':
      return raw(stream ? SSE_TYPE : JSON_TYPE, stream ? FAKE_GARBAGE_STREAM : FAKE_GARBAGE);
    case 'html':
      return raw('text/html; charset=utf-8', Buffer.from(FAKE_HTML));
    case 'empty':
      return raw(stream ? SSE_TYPE : JSON_TYPE, Buffer.alloc(0));
    case 'wrong-shape':
      return stream ? wrongStream(path) : jsonReply(200, { hello: FAKE_INVALID_TEXT, items: [1, 2] });
    case 'truncated':
      return truncated(anthropic ? anthropicReply(body, 'answer') : openAIReply(path, body, 'answer'));
    default:
      return undefined;
  }
}

function raw(contentType: string, bytes: Buffer): FakeReply {
  return { kind: 'raw', status: 200, contentType, body: bytes };
}

/** JSON events of no format the endpoint speaks (with `[DONE]` where the format has one). */
function wrongStream(path: string): FakeReply {
  const frames = [sseFrame({ hello: FAKE_INVALID_TEXT }), sseFrame({ type: 'ping' }, 'ping'), sseFrame([FAKE_INVALID_TEXT])];
  if (path === '/v1/chat/completions' || path === '/v1/completions') frames.push(sseFrame('[DONE]'));
  return { kind: 'sse', frames };
}

/** The real answer cut in the middle: half a JSON document, or half of a stream's first event. */
function truncated(reply: FakeReply): FakeReply {
  if (reply.kind === 'json') {
    const text = Buffer.from(JSON.stringify(reply.body));
    return raw(JSON_TYPE, text.subarray(0, Math.floor(text.length / 2)));
  }
  if (reply.kind === 'sse') {
    const first = Buffer.from(reply.frames[0]!);
    return raw(SSE_TYPE, first.subarray(0, Math.floor(first.length / 2)));
  }
  return reply;
}
