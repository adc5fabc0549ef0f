import type { DigestAlgorithm } from '../crypto/digest.js';
import type { Digests } from './digests.js';
import { createRedactor, type CustomPattern, type DetectorName, type Redactor } from './pii.js';
import { isCredentialHeader, selectHeaders, type RawHeaders } from './policy-headers.js';
import { FIELD_CLASSES, keepsContent, keepsDigest, type CaptureMode, type FieldClass, type StoringMode } from './policy-modes.js';
import { compileModelMatcher } from './policy-models.js';
import { applyLowering, parseCaptureRequest, type CaptureLowering } from './policy-request.js';
import { truncateUtf8 } from './truncate.js';

export { CAPTURE_MODES, FIELD_CLASSES, type CaptureMode, type FieldClass, type StoringMode } from './policy-modes.js';
export { CAPTURE_REQUEST_HEADER, CREDENTIAL_HEADERS, isCredentialHeader, type RawHeaders } from './policy-headers.js';
export { parseCaptureRequest, type CaptureLowering } from './policy-request.js';

/** The `capture` section as the configuration loader resolves it. */
export interface CapturePolicyConfig {
  prompts: CaptureMode;
  responses: CaptureMode;
  headers: CaptureMode;
  allowPlaintext: boolean;
  excludeModels: readonly string[];
  /** Per stored field, in UTF-8 bytes. */
  maxBodySize: number;
  headersAllow: readonly string[];
  pii: { enabled: boolean; detectors: readonly DetectorName[]; custom: readonly CustomPattern[] };
}

/** Computes envelope digests; `Digester` from src/crypto/digest.ts is one. */
export interface ContentDigester {
  readonly algorithm: DigestAlgorithm;
  digest(text: string): string;
}

/** One model call as it arrives, before anything of it reaches a sink. */
export interface CaptureCall {
  model?: string;
  system?: string;
  input?: string;
  output?: string;
  /**
   * The message of the error the call ended with (an upstream's, or an SDK's). Upstreams quote
   * the offending input in it, so it is treated as response text: digested and stored under the
   * `responses` mode, never anywhere else.
   */
  error?: string;
  headers?: RawHeaders;
  /**
   * The caller's own lowering, as an object or in the header syntax (`hash`,
   * `prompts=none,responses=hash`). Without it the `x-llm-ledger-capture` header in `headers`
   * is read, so a gateway that forwards headers gets the client's request without extra wiring.
   */
  lower?: CaptureLowering | string;
}

export interface StoredText {
  /** How the sink keeps it: sealed under the subject's data key, or as it is. */
  mode: StoringMode;
  /** Redacted, then cut to `max_body_size` on a character boundary. */
  text: string;
  /** UTF-8 size of the original text, before redaction and truncation. */
  bytes: number;
  /** The stored text is shorter than the whole redacted text. */
  truncated: boolean;
  /** Spans the PII redactor replaced in this field. */
  redactions: number;
}

export interface StoredHeaders {
  mode: StoringMode;
  /** Allow-listed headers only, lower-case names, values redacted and cut to `max_body_size`. */
  values: Record<string, string>;
  truncated: boolean;
  redactions: number;
}

export interface CaptureResult {
  /** The model matched `exclude_models`: only envelope facts are kept, every mode is `none`. */
  excluded: boolean;
  /** The modes that applied to this call, after any lowering. */
  modes: Record<FieldClass, CaptureMode>;
  /** For the envelope: digests of the original system prompt, input, output and error message, where the mode digests. */
  digests?: Digests;
  /** Digest of the original allow-listed headers, one `name: value` line each, sorted by name. */
  headersDigest?: string;
  /** What a content store receives; absent fields are not stored. */
  content: { system?: StoredText; input?: StoredText; output?: StoredText; error?: StoredText; headers?: StoredHeaders };
  /** Spans replaced per detector over every stored field; only detectors that fired appear. */
  pii: { findings: Record<string, number>; total: number };
  /** What the policy refused or ignored in this call's request. Never holds call text. */
  notes: string[];
}

export interface CapturePolicy {
  apply(call: CaptureCall): CaptureResult;
  /** Computes the digests `apply` puts in envelopes. */
  readonly digester: ContentDigester;
  /** Start-up warnings about the configuration (plaintext, no redaction, ...), to print once. */
  readonly warnings: readonly string[];
}

export class CapturePolicyError extends Error {
  override readonly name = 'CapturePolicyError';
}

/**
 * Redaction sees at most this much beyond `max_body_size`, so a huge body costs one bounded
 * regex pass rather than a pass over all of it. Redacting before cutting matters: a card number
 * cut in half no longer passes Luhn and would be stored half visible. 64 KiB is far longer than
 * any secret shape (an RSA-16384 PEM key is under 13 KiB), so nothing that starts inside the
 * stored part can straddle the pre-cut.
 */
const REDACTION_LOOKAHEAD_BYTES = 64 * 1024;

interface Compiled {
  configured: Readonly<Record<FieldClass, CaptureMode>>;
  maxBodySize: number;
  isExcluded: (model: string | undefined) => boolean;
  headersAllow: ReadonlySet<string>;
  redactor: Redactor | undefined;
  digester: ContentDigester;
}

/**
 * Prepares the capture policy once: detectors, exclusion globs and the header allow-list are
 * compiled here, so `apply` runs no regex compilation and no configuration checks per call.
 *
 * Digests are taken over the original text, before redaction and truncation: a digest is the
 * auditor's way to confirm that a text they hold is exactly what was sent or answered, and
 * that must not depend on which detectors were configured at the time or on `max_body_size`.
 * Being keyed (HMAC), a digest of unredacted text still reveals nothing to anyone without the
 * digest key. Stored content is therefore not expected to match its digest when it was
 * redacted or truncated; `redactions` and `truncated` say so.
 */
export function compileCapturePolicy(config: CapturePolicyConfig, options: { digester: ContentDigester }): CapturePolicy {
  const warnings: string[] = [];
  const configured = { prompts: config.prompts, responses: config.responses, headers: config.headers };
  for (const field of FIELD_CLASSES) {
    if (configured[field] !== 'plaintext') continue;
    if (!config.allowPlaintext) {
      throw new CapturePolicyError(`capture.${field} is plaintext but capture.allow_plaintext is not true; set it to store readable text, or use encrypted`);
    }
    warnings.push(`capture.${field} is plaintext: its text is stored unencrypted, readable by anyone who can read the store`);
  }
  if (!Number.isInteger(config.maxBodySize) || config.maxBodySize < 1) {
    throw new CapturePolicyError(`capture.max_body_size must be a whole number of bytes, at least 1; got ${config.maxBodySize}`);
  }
  const anyStored = FIELD_CLASSES.some((field) => keepsContent(configured[field]));
  if (anyStored && !config.pii.enabled) warnings.push('capture stores content with PII redaction turned off (capture.pii.enabled: false)');

  const headersAllow = new Set<string>();
  for (const name of config.headersAllow) {
    if (isCredentialHeader(name)) warnings.push(`capture.headers_allow names the credential header ${name}; it is never kept`);
    else headersAllow.add(name.toLowerCase());
  }
  if (keepsDigest(configured.headers) && headersAllow.size === 0) {
    warnings.push(`capture.headers is ${configured.headers} but capture.headers_allow is empty, so no header is kept`);
  }

  const compiled: Compiled = {
    configured,
    maxBodySize: config.maxBodySize,
    isExcluded: compileModelMatcher(config.excludeModels),
    headersAllow,
    // Built even when nothing is stored by configuration, never per call: cheap, and lowering
    // can only remove storage, so an unused redactor is the only cost.
    redactor: config.pii.enabled && anyStored ? createRedactor({ detectors: config.pii.detectors, custom: config.pii.custom }) : undefined,
    digester: options.digester,
  };
  return { apply: (call) => applyPolicy(compiled, call), digester: options.digester, warnings: Object.freeze(warnings) };
}

function applyPolicy(policy: Compiled, call: CaptureCall): CaptureResult {
  if (policy.isExcluded(call.model)) {
    return { excluded: true, modes: { prompts: 'none', responses: 'none', headers: 'none' }, content: {}, pii: { findings: {}, total: 0 }, notes: [] };
  }
  const notes: string[] = [];
  const headers = selectHeaders(call.headers, policy.headersAllow);
  const request = call.lower ?? headers.request;
  let lowering: CaptureLowering = {};
  if (typeof request === 'string') {
    const parsed = parseCaptureRequest(request);
    lowering = parsed.lowering;
    notes.push(...parsed.problems);
  } else if (request !== undefined) {
    lowering = request;
  }
  const modes = applyLowering(policy.configured, lowering, notes);

  const findings: Record<string, number> = {};
  const tally = { total: 0 };
  const keep = (text: string, mode: StoringMode): StoredText => storeText(policy, text, mode, findings, tally);
  const content: CaptureResult['content'] = {};
  const result: CaptureResult = { excluded: false, modes, content, pii: { findings, total: 0 }, notes };

  const { digester } = policy;
  if (keepsDigest(modes.prompts) || keepsDigest(modes.responses)) {
    const out: Digests = { alg: digester.algorithm };
    if (keepsDigest(modes.prompts)) {
      if (call.system !== undefined) out.system = digester.digest(call.system);
      if (call.input !== undefined) out.input = digester.digest(call.input);
    }
    if (keepsDigest(modes.responses)) {
      if (call.output !== undefined) out.output = digester.digest(call.output);
      if (call.error !== undefined) out.error = digester.digest(call.error);
    }
    if (out.system !== undefined || out.input !== undefined || out.output !== undefined || out.error !== undefined) result.digests = out;
  }
  if (keepsContent(modes.prompts)) {
    if (call.system !== undefined) content.system = keep(call.system, modes.prompts);
    if (call.input !== undefined) content.input = keep(call.input, modes.prompts);
  }
  if (keepsContent(modes.responses)) {
    if (call.output !== undefined) content.output = keep(call.output, modes.responses);
    if (call.error !== undefined) content.error = keep(call.error, modes.responses);
  }

  if (keepsDigest(modes.headers) && headers.kept.length > 0) {
    result.headersDigest = digester.digest(headers.kept.map(([name, value]) => `${name}: ${value}\n`).join(''));
    if (keepsContent(modes.headers)) {
      const values: Record<string, string> = {};
      let truncated = false;
      let redactions = 0;
      for (const [name, value] of headers.kept) {
        const stored = keep(value, modes.headers);
        values[name] = stored.text;
        truncated ||= stored.truncated;
        redactions += stored.redactions;
      }
      content.headers = { mode: modes.headers, values, truncated, redactions };
    }
  }
  result.pii.total = tally.total;
  return result;
}

function storeText(policy: Compiled, text: string, mode: StoringMode, findings: Record<string, number>, tally: { total: number }): StoredText {
  const { redactor, maxBodySize } = policy;
  if (redactor === undefined) {
    const cut = truncateUtf8(text, maxBodySize);
    return { mode, text: cut.text, bytes: cut.bytes, truncated: cut.truncated, redactions: 0 };
  }
  const seen = truncateUtf8(text, maxBodySize + REDACTION_LOOKAHEAD_BYTES);
  const redaction = redactor.redact(seen.text);
  for (const [detector, count] of Object.entries(redaction.findings)) findings[detector] = (findings[detector] ?? 0) + count;
  tally.total += redaction.total;
  const cut = truncateUtf8(redaction.text, maxBodySize);
  return { mode, text: cut.text, bytes: seen.bytes, truncated: seen.truncated || cut.truncated, redactions: redaction.total };
}
