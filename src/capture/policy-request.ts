import { CAPTURE_REQUEST_HEADER } from './policy-headers.js';
import { FIELD_CLASSES, isAbove, isCaptureMode, lowerMode, type CaptureMode, type FieldClass } from './policy-modes.js';

/** What one call asks for: a mode for every class (`all`) and/or per class. The lower one applies. */
export type CaptureLowering = Partial<Record<FieldClass | 'all', CaptureMode>>;

export interface ParsedCaptureRequest {
  lowering: CaptureLowering;
  /** Parts that were not understood and so changed nothing; they never quote the value. */
  problems: string[];
}

const CLASSES: ReadonlySet<string> = new Set(FIELD_CLASSES);
const EXPECTED = `expected none, hash, encrypted or plaintext, or class=mode with class ${FIELD_CLASSES.join(', ')}`;

/**
 * Reads the `x-llm-ledger-capture` syntax: a bare mode for every class (`hash`), or
 * comma-separated `class=mode` pairs (`prompts=none, responses=hash`), in any case. A class named
 * twice gets the lower mode. A part not understood changes nothing and is reported; the other
 * parts still apply, since lowering is always safe.
 */
export function parseCaptureRequest(value: string): ParsedCaptureRequest {
  const lowering: CaptureLowering = {};
  const problems: string[] = [];
  const parts = value.split(',');
  for (const [index, raw] of parts.entries()) {
    const part = raw.trim().toLowerCase();
    if (part === '' && parts.length > 1) continue;
    const eq = part.indexOf('=');
    const target = eq < 0 ? 'all' : part.slice(0, eq).trim();
    const mode = eq < 0 ? part : part.slice(eq + 1).trim();
    if ((target !== 'all' && !CLASSES.has(target)) || !isCaptureMode(mode)) {
      problems.push(`${CAPTURE_REQUEST_HEADER} part ${index + 1} is not understood (${EXPECTED}) and was ignored`);
      continue;
    }
    const key = target as FieldClass | 'all';
    const earlier = lowering[key];
    lowering[key] = earlier === undefined ? mode : lowerMode(earlier, mode);
  }
  return { lowering, problems };
}

/**
 * The modes that apply to one call: each class's configured mode, lowered by the request where it
 * asks for less. Asking for more is refused, and each refusal is noted.
 */
export function applyLowering(
  configured: Readonly<Record<FieldClass, CaptureMode>>,
  lowering: CaptureLowering,
  notes: string[],
): Record<FieldClass, CaptureMode> {
  const modes = { ...configured };
  for (const field of FIELD_CLASSES) {
    for (const asked of [lowering.all, lowering[field]]) {
      if (asked === undefined || !isCaptureMode(asked)) continue;
      if (isAbove(asked, configured[field])) {
        notes.push(`the request asked for ${asked} ${field}, above the configured ${configured[field]}; a request may only lower capture, so it was ignored`);
      } else {
        modes[field] = lowerMode(modes[field], asked);
      }
    }
  }
  return modes;
}
