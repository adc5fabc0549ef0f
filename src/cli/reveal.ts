import { userInfo } from 'node:os';
import { ContentDecryptionError } from '../crypto/content-errors.js';
import type { RevealedContent } from '../ledger/content.js';
import type { Ledger, RevealResult } from '../ledger/ledger.js';
import type { ContentField, LoggedRecord } from '../record/types.js';
import { IntegrityError, NotFoundError, UsageError } from './exit-codes.js';
import { envelopeTable } from './format-record.js';
import { printable, printableBlock } from '../ledger/printable.js';

/**
 * Who is looking, as recorded in the `content_accessed` record: `--actor`, else the login name
 * of the OS user running the command.
 */
export function revealActor(given: string | undefined): string {
  if (given !== undefined) {
    if (given.trim() === '') throw new UsageError('--actor must name whoever is looking; it is recorded with the access');
    return given;
  }
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // A container user with no passwd entry has no login name; the environment may still name one.
    name = process.env.USER ?? process.env.LOGNAME;
  }
  if (!name?.trim())
    throw new UsageError('cannot tell who is running this command (no OS user name); name yourself with --actor <name>, which is recorded with the access');
  return name;
}

/**
 * Reveals one record's stored content for a key holder. Refuses before touching anything when
 * the envelope says no content was ever stored (nothing to access); otherwise the access is
 * recorded by the ledger before anything is decrypted, so a failed attempt leaves its trace too.
 */
export async function revealRecord(ledger: Ledger, id: string, access: { actor: string; reason: string }): Promise<RevealResult> {
  const record = await ledger.get(id);
  if (!record) throw new NotFoundError(`no record with id ${printable(id)}; find ids with 'llm-ledger search'`);
  const stored = storedFields(record);
  if (stored.length === 0) {
    const capture = record.envelope.capture;
    const how = capture?.excluded
      ? 'its model is on capture.exclude_models, so only envelope facts were kept'
      : capture
        ? `it was captured with prompts: ${capture.prompts}, responses: ${capture.responses}, headers: ${capture.headers}, so at most digests were kept`
        : 'it is a record with no captured text';
    throw new NotFoundError(
      `record ${printable(id)} has no stored content to reveal: ${how}. Content is stored only under capture mode encrypted or plaintext.`,
    );
  }
  let result: RevealResult;
  try {
    result = await ledger.reveal(id, access);
  } catch (err) {
    if (err instanceof ContentDecryptionError) throw explain(err);
    throw err;
  }
  if (Object.keys(result.content).length === 0) {
    throw new NotFoundError(
      `the content of record ${printable(id)} is no longer stored: it was erased ('llm-ledger erase') or expired under retention. The attempt is recorded as content_accessed record ${result.accessRecordId}.`,
    );
  }
  return result;
}

/** The fields the envelope says were stored beside it. */
function storedFields(record: LoggedRecord): ContentField[] {
  return Object.keys(record.envelope.capture?.fields ?? {}) as ContentField[];
}

/** A decryption failure with what to do about it, and the exit code its cause deserves. */
function explain(err: ContentDecryptionError): Error {
  switch (err.reason) {
    case 'unknown-key':
    case 'wrong-key':
      return new UsageError(
        `${err.message}. The key-encryption key that sealed it is not the one configured: set encryption.kek_file (or LLM_LEDGER_KEK) to it, or list it under encryption.previous_kek_files after a rotation.`,
        { cause: err },
      );
    case 'key-erased':
      return new NotFoundError(err.message, { cause: err });
    default:
      return new IntegrityError(`${err.message}. Run 'llm-ledger verify' and investigate the store.`, { cause: err });
  }
}

const FIELD_ORDER: readonly ContentField[] = ['system', 'input', 'output', 'error', 'headers'];

/** The envelope, then each revealed field as an indented block with what capture did to it. */
export function formatReveal(result: RevealResult, actor: string): string {
  const { record, content, accessRecordId } = result;
  const facts = record.envelope.capture?.fields ?? {};
  const lines = [envelopeTable(record), '', `Content revealed to ${printable(actor)}; this access is recorded as content_accessed record ${accessRecordId}.`];
  for (const field of FIELD_ORDER) {
    const value = content[field];
    if (value === undefined) continue;
    const fact = facts[field];
    const notes = fact
      ? [fact.mode, ...(fact.redactions > 0 ? [`${fact.redactions} PII span(s) redacted`] : []), ...(fact.truncated ? [`cut from ${fact.bytes} bytes`] : [])]
      : [];
    lines.push('', `${field}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}:`, fieldText(field, value));
  }
  return lines.join('\n');
}

function fieldText(field: ContentField, value: RevealedContent[ContentField]): string {
  if (field === 'headers') {
    return Object.entries(value as Record<string, string>)
      .map(([name, v]) => `  ${printable(name)}: ${printable(v)}`)
      .join('\n');
  }
  return printableBlock(value as string);
}
