import { decodeStrictBase64 } from './base64.js';
import { HASH_SIZE } from './merkle.js';
import { NoteError, openNote, parseSignerKey, parseVerifierKey, signNote, type NoteSignerKey } from './note.js';

export { generateSignerKey, verifierKeyOf } from './note.js';

/**
 * Checkpoints (https://c2sp.org/tlog-checkpoint): the signed note whose text is a log's origin,
 * tree size and RFC 9162 root hash.
 */

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  /**
   * Records below this index may have been pruned by retention (0 or absent: none). Signed with
   * the tree, as an extension line, so the horizon that `verify` trusts is the log's own word and
   * no row written into storage can move it.
   */
  prunedBelow?: number;
}

/**
 * A signed checkpoint as kept: by a store (its head and its checkpoints) and by anchors outside
 * it. `note` is the signed note's text; `openCheckpoint` reads it.
 */
export interface StoredCheckpoint {
  size: number;
  note: string;
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

const TREE_SIZE = /^(?:0|[1-9][0-9]*)$/;
/** The one extension line this log writes (c2sp.org/tlog-checkpoint allows opaque extension lines after the root). */
const PRUNED_BELOW = /^llm-ledger-pruned-below (0|[1-9][0-9]*)$/;
const PRUNED_BELOW_PREFIX = 'llm-ledger-pruned-below ';

/** The note text: "<origin>\n<size>\n<base64 root>\n". */
export function checkpointBody(cp: Checkpoint): string {
  if (typeof cp.origin !== 'string' || cp.origin === '' || /[\u0000-\u001f]/.test(cp.origin)) {
    throw new CheckpointError('a checkpoint origin must be non-empty text on one line, without control characters');
  }
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new CheckpointError(`a checkpoint size must be a whole number, got ${cp.size}`);
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== HASH_SIZE) throw new CheckpointError('a checkpoint root must be a 32-byte hash');
  const pruned = cp.prunedBelow ?? 0;
  if (!Number.isSafeInteger(pruned) || pruned < 0 || pruned > cp.size)
    throw new CheckpointError(`a checkpoint's pruning horizon must be a whole number from 0 to its size, got ${pruned}`);
  // Written only when something was pruned: the notes of every other log stay plain three-line checkpoints.
  const extension = pruned > 0 ? `${PRUNED_BELOW_PREFIX}${pruned}\n` : '';
  return `${cp.origin}\n${cp.size}\n${Buffer.from(cp.root).toString('base64')}\n${extension}`;
}

/** Signs checkpoints with a Go-format Ed25519 signer key (see note.ts). */
export class NoteSigner {
  readonly name: string;
  readonly keyId: string;
  readonly verifierKey: string;
  readonly #key: NoteSignerKey;

  constructor(signerKey: string) {
    this.#key = asCheckpointError('signer key', () => parseSignerKey(signerKey));
    this.name = this.#key.name;
    this.keyId = this.#key.keyId;
    this.verifierKey = this.#key.verifierKey;
  }

  /** The complete signed note: body, blank line, "— <name> <base64(key id || signature)>\n". */
  sign(cp: Checkpoint): string {
    return asCheckpointError('checkpoint', () => signNote(checkpointBody(cp), this.#key));
  }

  /** A signed note over another statement of this log (a batch seal): same key, a body no checkpoint parser accepts. */
  signStatement(body: string): string {
    return asCheckpointError('statement', () => signNote(body, this.#key));
  }
}

/** The text of a note signed by `verifierKey`; a CheckpointError when the signature or form is wrong. */
export function openSignedStatement(noteText: string, verifierKey: string): string {
  const key = asCheckpointError('verifier key', () => parseVerifierKey(verifierKey));
  return asCheckpointError('signed note', () => openNote(noteText, key));
}

/** Whether `text` is a well-formed verifier key (name, key id matching the key, Ed25519 public key). */
export function isVerifierKey(text: string): boolean {
  try {
    parseVerifierKey(text);
    return true;
  } catch {
    return false;
  }
}

/** The one spelling of a verifier key (its key id in lowercase), so two spellings compare equal. */
export function canonicalVerifierKey(text: string): string {
  return asCheckpointError('verifier key', () => parseVerifierKey(text)).verifierKey;
}

/**
 * Verifies a signed checkpoint against one verifier key and parses it strictly. Signatures by
 * other keys (witnesses, rotated keys) are ignored. The only extension line accepted is this
 * log's pruning horizon; any other is refused: this log never writes one, and a Checkpoint could
 * not carry what it says.
 */
export function openCheckpoint(noteText: string, verifierKey: string, expectedOrigin?: string): Checkpoint {
  const text = openSignedStatement(noteText, verifierKey);
  const lines = text.slice(0, -1).split('\n');
  const empty = lines.indexOf('');
  if (empty >= 0) throw new CheckpointError(`malformed line ${empty + 1}: checkpoint lines must not be empty`);
  if (lines.length < 3) throw new CheckpointError(`the checkpoint has ${lines.length} line(s); it needs origin, tree size and root hash`);
  const pruned = lines.length > 3 ? PRUNED_BELOW.exec(lines[3]!) : null;
  if (lines.length > 4 || (lines.length === 4 && !pruned))
    throw new CheckpointError(`malformed line ${pruned ? 5 : 4}: extension lines other than '${PRUNED_BELOW_PREFIX}<n>' are not accepted`);
  const [origin, sizeText, rootText] = lines as [string, string, string];

  if (!TREE_SIZE.test(sizeText)) throw new CheckpointError(`malformed line 2: tree size ${quote(sizeText)} is not a decimal number without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError(`malformed line 2: tree size ${sizeText} is larger than this implementation supports`);
  let root: Buffer;
  try {
    root = decodeStrictBase64(rootText, HASH_SIZE);
  } catch (err) {
    throw new CheckpointError(`malformed line 3: the root hash is ${(err as Error).message}`);
  }
  if (expectedOrigin !== undefined && origin !== expectedOrigin) {
    throw new CheckpointError(`origin mismatch: the checkpoint is for ${quote(origin)}, expected ${quote(expectedOrigin)}`);
  }
  if (!pruned) return { origin, size, root };
  const prunedBelow = Number(pruned[1]);
  if (prunedBelow === 0 || prunedBelow > size)
    throw new CheckpointError(`malformed line 4: the pruning horizon ${prunedBelow} must be from 1 to the tree size ${size}`);
  return { origin, size, root, prunedBelow };
}

function asCheckpointError<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof NoteError) throw new CheckpointError(`${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** JSON quoting shows stray spaces and invisible characters; long values are cut short. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
