import { z } from 'zod';
import { canonicalJson } from '../record/canonical.js';
import { decodeStrictBase64 } from './base64.js';
import { canonicalVerifierKey, isVerifierKey, openCheckpoint } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';

export const PROOF_FORMAT = 'llm-ledger/inclusion-proof/v1';

/**
 * Everything needed to check one record offline: its exact committed bytes, where it sits,
 * the RFC 9162 audit path, and the signed checkpoint with the key that signed it.
 */
export interface ProofBundle {
  format: typeof PROOF_FORMAT;
  index: number;
  treeSize: number;
  /** The record's envelope exactly as committed: RFC 8785 canonical JSON. */
  envelope: string;
  /** Base64 node hashes, leaf to root, as RFC 9162 section 2.1.3.1 defines them. */
  inclusionProof: string[];
  /** C2SP signed note of the checkpoint whose root the proof leads to. */
  checkpoint: string;
  /** Verifier key (Go sumdb/note format) of the checkpoint's signer. */
  verifierKey: string;
}

const bundleSchema = z.strictObject({
  format: z.literal(PROOF_FORMAT),
  index: z.number().int().min(0),
  treeSize: z.number().int().min(1),
  envelope: z.string().min(2),
  inclusionProof: z.array(z.string()).max(64),
  checkpoint: z.string(),
  verifierKey: z.string(),
});

/** The bundle as a file: RFC 8785 JSON and a final newline. */
export function serializeProof(bundle: ProofBundle): string {
  return `${canonicalJson(bundle)}\n`;
}

export type ProofVerification =
  { ok: true; index: number; treeSize: number; origin: string; id: string; verifierKey: string; trustedKey: boolean } | { ok: false; reason: string };

/**
 * Checks a bundle with no database. Without `trustedVerifierKey` it only shows the bundle is
 * internally consistent (anyone can sign their own log): pass the ledger's published key to
 * know the record is in *that* log.
 */
export function verifyProof(bundle: unknown, options: { trustedVerifierKey?: string } = {}): ProofVerification {
  let text: unknown = bundle;
  if (Buffer.isBuffer(text)) text = text.toString('utf8');
  let parsed: unknown = text;
  if (typeof text === 'string') {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: `the bundle is not JSON: ${(err as Error).message}` };
    }
    // Bundles are written in RFC 8785 form, so even a change to white space is visible as a change.
    if (text.replace(/\n$/, '') !== canonicalJson(parsed)) {
      return { ok: false, reason: 'the bundle is not in the canonical form llm-ledger writes (RFC 8785); it was edited' };
    }
  }
  const result = bundleSchema.safeParse(parsed);
  if (!result.success) {
    return { ok: false, reason: `the bundle is malformed: ${result.error.issues.map((i) => `${i.path.join('.') || '(bundle)'}: ${i.message}`).join('; ')}` };
  }
  const b = result.data;
  if (options.trustedVerifierKey !== undefined && options.trustedVerifierKey !== b.verifierKey) {
    return { ok: false, reason: 'the bundle was signed by a different key than the trusted one' };
  }
  // The key is written in its one spelling (a lower-case key id), like every other byte of the bundle.
  if (isVerifierKey(b.verifierKey) && canonicalVerifierKey(b.verifierKey) !== b.verifierKey) {
    return { ok: false, reason: "the bundle's verifier key is not written as llm-ledger writes it (its key id in lower case); it was edited" };
  }
  let checkpoint;
  try {
    checkpoint = openCheckpoint(b.checkpoint, b.verifierKey);
  } catch (err) {
    return { ok: false, reason: `the checkpoint does not verify: ${(err as Error).message}` };
  }
  if (checkpoint.size !== b.treeSize) return { ok: false, reason: `treeSize ${b.treeSize} differs from the checkpoint's size ${checkpoint.size}` };
  if (b.index >= b.treeSize) return { ok: false, reason: `index ${b.index} is outside a tree of size ${b.treeSize}` };
  const path: Buffer[] = [];
  for (const [i, node] of b.inclusionProof.entries()) {
    try {
      path.push(decodeStrictBase64(node, 32));
    } catch (err) {
      return { ok: false, reason: `inclusionProof[${i}] is not a base64 SHA-256 hash: ${(err as Error).message}` };
    }
  }
  const leaf = leafHash(Buffer.from(b.envelope, 'utf8'));
  if (!verifyInclusion(leaf, b.index, b.treeSize, path, checkpoint.root)) {
    return { ok: false, reason: `the envelope is not at index ${b.index} of the tree the checkpoint signs` };
  }
  let id: string;
  try {
    id = String((JSON.parse(b.envelope) as { id?: unknown }).id ?? '');
  } catch {
    return { ok: false, reason: 'the envelope is not JSON' };
  }
  return {
    ok: true,
    index: b.index,
    treeSize: b.treeSize,
    origin: checkpoint.origin,
    id,
    verifierKey: b.verifierKey,
    trustedKey: options.trustedVerifierKey !== undefined,
  };
}
