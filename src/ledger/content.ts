import type { CaptureResult } from '../capture/policy.js';
import type { ContentCipher } from '../crypto/content-cipher.js';
import type { ContentField, Envelope, LoggedRecord } from '../record/types.js';
import type { ContentItem, ContentStore, StoredContent } from '../store/content.js';
import { LedgerError } from './errors.js';

/** Content of one record as revealed: texts by field, headers by name. */
export interface RevealedContent {
  system?: string;
  input?: string;
  output?: string;
  /** The message of the error the call ended with. */
  error?: string;
  headers?: Record<string, string>;
}

/**
 * The data subject whose key seals a record's content: its user, else its tenant, else one
 * shared anonymous subject. Prefixed so a user and a tenant with the same name never share a key.
 */
export function subjectOf(who: { user?: string | undefined; tenant?: string | undefined }): string {
  if (who.user !== undefined) return `user:${who.user}`;
  if (who.tenant !== undefined) return `tenant:${who.tenant}`;
  return 'anonymous';
}

/** The associated-data field name of a record's sealed bundle: binds it to its record. */
const BUNDLE_FIELD = 'content';

/** Seals, opens, erases and expires the content kept beside records. */
export class LedgerContent {
  constructor(
    private readonly store: ContentStore | undefined,
    /** Absent when no key-encryption key is configured: encrypted content can then be neither written nor read. */
    private readonly cipher: ContentCipher | undefined,
  ) {}

  /** What the store keeps of one record's captured content: one item per storing mode, all its fields as one JSON object. */
  async seal(envelope: Envelope, content: CaptureResult['content']): Promise<{ ts: string; items: ContentItem[] }> {
    const subject = subjectOf(envelope);
    const bundles: Record<ContentItem['mode'], RevealedContent> = { encrypted: {}, plaintext: {} };
    if (content.system) bundles[content.system.mode].system = content.system.text;
    if (content.input) bundles[content.input.mode].input = content.input.text;
    if (content.output) bundles[content.output.mode].output = content.output.text;
    if (content.error) bundles[content.error.mode].error = content.error.text;
    if (content.headers) bundles[content.headers.mode].headers = content.headers.values;
    const items: ContentItem[] = [];
    for (const mode of ['encrypted', 'plaintext'] as const) {
      if (Object.keys(bundles[mode]).length === 0) continue;
      const text = JSON.stringify(bundles[mode]);
      const data =
        mode === 'plaintext'
          ? Buffer.from(text, 'utf8')
          : await this.requireCipher().encrypt({ recordId: envelope.id, field: BUNDLE_FIELD, subject, plaintext: text });
      items.push({ mode, subject, data });
    }
    return { ts: envelope.ts, items };
  }

  /** The stored content of one record, decrypted; what was never stored, or was erased, is absent. */
  async open(record: LoggedRecord): Promise<{ content: RevealedContent; fields: ContentField[] }> {
    const content: RevealedContent = {};
    for (const item of await this.requireStore().get(record.index)) {
      Object.assign(content, JSON.parse(await this.text(item, record.envelope.id)) as RevealedContent);
    }
    return { content, fields: (Object.keys(content) as ContentField[]).sort() };
  }

  /** Wraps every subject's data keys with the current key-encryption key, so older ones can be retired. */
  async rewrapKeys(): Promise<{ subjects: number; rewrapped: number; kekId: string }> {
    const cipher = this.requireCipher();
    return { ...(await cipher.rewrapAll()), kekId: cipher.currentKekId };
  }

  /** Crypto-shredding, then deletion: the subject's keys first, so no copy of its content stays readable. */
  async erase(subject: string, batchSize: number): Promise<{ keysDestroyed: number; contentDeleted: number }> {
    const store = this.requireStore();
    const { keysDestroyed } = this.cipher ? await this.cipher.destroySubject(subject) : { keysDestroyed: await store.dataKeys.destroy(subject) };
    let contentDeleted = 0;
    for (let n = -1; n !== 0; contentDeleted += n) n = await store.delete({ subject }, batchSize);
    return { keysDestroyed, contentDeleted };
  }

  /** Deletes content of records older than `before` (strictly), at most `maxItems` in batches; returns how many. */
  async expire(before: string, batchSize: number, maxItems = Number.POSITIVE_INFINITY): Promise<number> {
    if (!this.store) return 0;
    let deleted = 0;
    while (deleted < maxItems) {
      const n = await this.store.delete({ before }, Math.min(batchSize, maxItems - deleted));
      deleted += n;
      if (n === 0) break;
    }
    return deleted;
  }

  /** Decrypts against the record id from the log, never the row's own: a ciphertext moved to another record fails. */
  private async text(item: StoredContent, recordId: string): Promise<string> {
    if (item.mode === 'plaintext') return Buffer.from(item.data).toString('utf8');
    return this.requireCipher().decrypt({ recordId, field: BUNDLE_FIELD, ciphertext: Buffer.from(item.data) });
  }

  private requireStore(): ContentStore {
    if (!this.store) throw new LedgerError('this store keeps no content (JSONL); content capture, reveal and erasure need a SQLite store');
    return this.store;
  }

  private requireCipher(): ContentCipher {
    if (!this.cipher) {
      throw new LedgerError(
        'encrypted content needs a key-encryption key: set LLM_LEDGER_KEK (or encryption.kek_env), or encryption.kek_file; create one with: llm-ledger keys generate',
      );
    }
    return this.cipher;
  }
}
