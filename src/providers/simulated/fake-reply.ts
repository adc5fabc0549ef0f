import type { Scenario } from './fake-scenarios.js';

/** What a fake provider handler asks the server to send. */
export type FakeReply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  /** These bytes as they are, with this content type (answers that are not valid in any format). */
  | { kind: 'raw'; status: number; contentType: string; body: Buffer }
  | {
      kind: 'sse';
      /** Each frame is written and flushed on its own. */
      frames: string[];
      /** Stop after this many frames and leave the response open (the `stall` scenario). */
      stallAfter?: number;
      headers?: Record<string, string>;
    };

export function jsonReply(status: number, body: unknown, headers?: Record<string, string>): FakeReply {
  return headers ? { kind: 'json', status, body, headers } : { kind: 'json', status, body };
}

/** One SSE event: `event:` line when named, then the data, then the blank line. */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${payload}\n\n`;
}

/**
 * Frames a client must cope with: a comment (as proxies send to keep a connection alive), an
 * event whose data is not JSON, and a JSON event whose `data:` line is split across two frames.
 * Inserted after the first frame of a `malformed` stream.
 */
export function awkwardFrames(splitEvent: string): string[] {
  const middle = Math.floor(splitEvent.length / 2);
  return [': keep-alive\n\n', 'data: {"not json\n\n', splitEvent.slice(0, middle), splitEvent.slice(middle)];
}

/**
 * Events as an SSE reply, with `[DONE]` at the end when the format has it (chat and legacy
 * completions) and the scenario's fault woven in: an error event after three frames, awkward
 * frames after the first, or a stall after two.
 */
export function sseReply(
  events: Array<{ data: unknown; event?: string }>,
  scenario: Scenario,
  streamError: { data: unknown; event?: string },
  done: boolean,
): FakeReply {
  const frames = events.map(({ data, event }) => sseFrame(data, event));
  if (scenario === 'stream-error') return { kind: 'sse', frames: [...frames.slice(0, 3), sseFrame(streamError.data, streamError.event)] };
  if (done) frames.push(sseFrame('[DONE]'));
  if (scenario === 'malformed') frames.splice(1, 1, ...awkwardFrames(frames[1]!));
  return scenario === 'stall' ? { kind: 'sse', frames, stallAfter: 2 } : { kind: 'sse', frames };
}
