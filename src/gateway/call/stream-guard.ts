import { replaceFindings } from '../../policy/redact.js';
import type { Outcome, Policy, TextFinding } from '../../policy/types.js';
import { dropLogprobs } from '../../providers/logprobs.js';
import type { ProviderAdapter, StreamTextSlot } from '../../providers/types.js';
import { formatEvent, SseFramer, type RawEvent } from './sse-framer.js';

/** A text rule as the guard applies it: what it scans for, and what it does on a match. */
export interface GuardRule {
  policy: Policy;
  scan(text: string): TextFinding[];
  action: Exclude<Outcome, 'ALLOW'>;
}

export interface GuardHooks {
  /** Passes released text on to the client. */
  write(text: string): void;
  /** A rule blocks the answer: nothing more is released; the caller ends the stream with an error. */
  block(rule: GuardRule, labels: string[]): void;
  /** A rule escalates: nothing is released until this resolves (true: approved, carry on; false: stop as blocked). */
  escalate(rule: GuardRule, labels: string[]): Promise<boolean>;
}

/** A delta slot of a held event: where its text sits in its channel's text. */
interface HeldSlot {
  channel: string;
  start: number;
  end: number;
}

interface HeldEvent {
  raw: RawEvent;
  data?: unknown;
  deltas: HeldSlot[];
  /** Whole-text slots (closing events that repeat a part's text) are redacted as a whole on release. */
  hasWhole: boolean;
}

interface Channel {
  /** Every delta so far, as the upstream sent it. */
  text: string;
  /** How much of `text` has gone to the client. */
  released: number;
  /** What went to the client of it, redacted. */
  out: string;
  /** Replacements decided for the held part, in channel offsets (kept until released). */
  findings: TextFinding[];
}

/**
 * Checks a streamed answer as it passes, without holding back the whole stream: the newest
 * `windowChars` characters of each part of the answer (choice, content block) are held while
 * the response checkpoint's text rules scan them; everything older goes on at once, events in
 * their original order and, when nothing in them changed, byte for byte.
 *
 * - REDACT: a match is replaced in the event where it begins (the rest of it is dropped from
 *   the events that carried it), so a match split over several events never leaks; closing
 *   events that repeat a part's whole text are redacted too.
 * - BLOCK: nothing more is released; the caller ends the stream with an error event.
 * - ESCALATE: nothing more is released until a reviewer decides; the upstream's events are
 *   kept meanwhile and released on approval.
 *
 * A match longer than the window may begin before the window and be released in part: set the
 * window to at least the longest text a rule must catch.
 */
export class StreamGuard {
  private readonly framer = new SseFramer();
  private readonly queue: HeldEvent[] = [];
  private readonly channels = new Map<string, Channel>();
  private stopped = false;
  private paused = false;
  private ended = false;
  private settle: (outcome: 'released' | 'stopped') => void = () => undefined;
  private readonly settled = new Promise<'released' | 'stopped'>((resolve) => (this.settle = resolve));
  /** Rules whose escalation a reviewer approved: their matches no longer stop the stream. */
  private readonly approved = new Set<GuardRule>();
  /** Matches replaced in what was released, for the record. */
  replaced = 0;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly rules: readonly GuardRule[],
    private readonly windowChars: number,
    private readonly hooks: GuardHooks,
  ) {}

  /** True once a rule blocked (or a review rejected) the answer. */
  get isStopped(): boolean {
    return this.stopped;
  }

  push(text: string): void {
    if (this.stopped) return;
    for (const raw of this.framer.push(text)) this.hold(raw);
    this.release();
  }

  /**
   * The upstream's answer is complete: everything still held is checked and released. Resolves
   * once all of it went to the client (after a review, if one is pending), or the answer was
   * stopped.
   */
  end(): Promise<'released' | 'stopped'> {
    if (!this.stopped) {
      this.ended = true;
      for (const raw of this.framer.end()) this.hold(raw);
      this.release();
    }
    return this.settled;
  }

  private hold(raw: RawEvent): void {
    const held: HeldEvent = { raw, deltas: [], hasWhole: false };
    const data = raw.data === undefined || raw.data === '[DONE]' ? undefined : parse(raw.data);
    if (data !== undefined) {
      held.data = data;
      for (const slot of this.slotsOf(raw, data)) {
        if (slot.kind === 'whole') {
          held.hasWhole = true;
          continue;
        }
        const channel = this.channel(slot.channel);
        held.deltas.push({ channel: slot.channel, start: channel.text.length, end: channel.text.length + slot.text.length });
        channel.text += slot.text;
      }
    }
    this.queue.push(held);
  }

  private release(): void {
    if (this.paused || this.stopped) return;
    const ending = this.ended;
    // Scan what is held of each part; stop at the first rule that blocks or escalates.
    const safe = new Map<string, number>();
    for (const [name, channel] of this.channels) {
      const held = channel.text.slice(channel.released);
      const redactions: TextFinding[] = [];
      for (const rule of this.rules) {
        const findings = rule.scan(held);
        if (findings.length === 0) continue;
        if (rule.action === 'REDACT') {
          for (const f of findings) redactions.push({ ...f, start: f.start + channel.released, end: f.end + channel.released });
        } else if (!this.approved.has(rule)) {
          return this.object(rule, findings);
        }
      }
      channel.findings = merge(redactions);
      let limit = ending ? channel.text.length : Math.max(channel.released, channel.text.length - this.windowChars);
      // Never release part of a match: hold from its start until the whole of it can go.
      for (const f of channel.findings) if (f.start < limit && f.end > limit) limit = f.start;
      safe.set(name, limit);
    }
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (!ending && next.deltas.some((d) => d.end > safe.get(d.channel)!)) break;
      this.queue.shift();
      this.hooks.write(this.emit(next));
    }
    if (ending) this.settle('released');
  }

  /** The event as released: its own bytes when nothing in it changed, else rewritten. */
  private emit(held: HeldEvent): string {
    if (held.data === undefined || (held.deltas.length === 0 && !held.hasWhole)) return held.raw.raw;
    const replacements: string[] = [];
    let changed = false;
    for (const delta of held.deltas) {
      const channel = this.channels.get(delta.channel)!;
      const text = this.redactedPiece(channel, delta);
      channel.released = Math.max(channel.released, delta.end);
      channel.out += text;
      replacements.push(text);
      if (text !== channel.text.slice(delta.start, delta.end)) changed = true;
    }
    const wholes = this.slotsOf(held.raw, held.data).filter((slot) => slot.kind === 'whole');
    const redactedWholes = wholes.map((slot) => this.redactWhole(slot));
    if (redactedWholes.some((text, i) => text !== wholes[i]!.text)) changed = true;
    if (!changed) return held.raw.raw;
    // Rewritten on a fresh copy: the parsed data may be shared with whoever observed the original.
    const copy = parse(held.raw.data!);
    const slots = this.slotsOf(held.raw, copy);
    let d = 0;
    let w = 0;
    for (const slot of slots) slot.set(slot.kind === 'delta' ? replacements[d++]! : redactedWholes[w++]!);
    dropLogprobs(copy);
    return formatEvent(held.raw.event, JSON.stringify(copy));
  }

  /** A delta's text with the replacements that begin inside it; the rest of a match spanning it is dropped. */
  private redactedPiece(channel: Channel, delta: HeldSlot): string {
    let out = '';
    let at = delta.start;
    for (const f of channel.findings) {
      if (f.end <= at || f.start >= delta.end) continue;
      if (f.start >= at) {
        out += channel.text.slice(at, f.start) + f.replacement;
        this.replaced++;
      }
      at = Math.min(delta.end, f.end);
    }
    return out + channel.text.slice(at, delta.end);
  }

  /**
   * A closing event's copy of a part's whole text: what the client was sent of that part when it
   * is the same text, so the two agree; otherwise the text redacted on its own.
   */
  private redactWhole(slot: StreamTextSlot): string {
    const channel = this.channels.get(slot.channel);
    if (channel && channel.text === slot.text && channel.released === channel.text.length) return channel.out;
    const { text } = slot;
    const findings = merge(this.rules.filter((r) => r.action === 'REDACT').flatMap((r) => r.scan(text)));
    return findings.length === 0 ? text : replaceFindings(text, findings);
  }

  private object(rule: GuardRule, findings: TextFinding[]): void {
    const labels = [...new Set(findings.map((f) => f.label))];
    if (rule.action === 'BLOCK') {
      this.halt();
      this.hooks.block(rule, labels);
      return;
    }
    this.paused = true;
    void this.hooks.escalate(rule, labels).then(
      (approved) => {
        this.paused = false;
        if (!approved) return this.halt();
        this.approved.add(rule);
        this.release();
      },
      () => this.halt(),
    );
  }

  /** Stops the answer from outside (a policy judged the whole of it): nothing more is released. */
  stop(): void {
    this.halt();
  }

  private halt(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.settle('stopped');
  }

  private channel(name: string): Channel {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { text: '', released: 0, out: '', findings: [] };
      this.channels.set(name, channel);
    }
    return channel;
  }

  private slotsOf(raw: RawEvent, data: unknown): StreamTextSlot[] {
    return this.adapter.streamTexts(raw.event === undefined ? { data } : { event: raw.event, data });
  }
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

/** Overlapping findings of several rules become one replacement (the first one's), in text order. */
function merge(findings: TextFinding[]): TextFinding[] {
  if (findings.length <= 1) return findings;
  findings.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: TextFinding[] = [];
  for (const f of findings) {
    const last = out.at(-1);
    if (last && f.start < last.end) last.end = Math.max(last.end, f.end);
    else out.push({ ...f });
  }
  return out;
}
