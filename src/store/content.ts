import type { DataKeyStore } from '../crypto/data-key-store.js';

/**
 * Content kept beside a record: never part of the envelope or the Merkle leaf (the envelope
 * holds its digests), so erasure and retention can delete it without breaking a single proof.
 * A record's fields are kept together, one item per storing mode: sealing them as one costs one
 * cipher and one row instead of three.
 */
export interface ContentItem {
  mode: 'encrypted' | 'plaintext';
  /** Whose data key sealed it (`user:<id>`, `tenant:<id>` or `anonymous`); erasure selects by it. */
  subject: string;
  /** Ciphertext, or UTF-8 text in plaintext mode, of the JSON object of the fields in this mode. */
  data: Uint8Array;
}

/** A content item as stored, with the record it belongs to. */
export interface StoredContent extends ContentItem {
  index: number;
  recordId: string;
  /** The record's time, which content retention compares. */
  ts: string;
}

/** Which content to delete: one subject's (erasure), or everything older than a time (retention). */
export type ContentSelector = { subject: string } | { before: string };

/** What a store that keeps content offers beyond the log. Content arrives with `Store.append`. */
export interface ContentStore {
  /** The stored content of the record at `index`. */
  get(index: number): Promise<StoredContent[]>;
  /** Deletes up to `limit` matching items, oldest first; returns how many. Call again until 0. */
  delete(selector: ContentSelector, limit: number): Promise<number>;
  /** Wrapped data keys, kept in the same storage as the content they seal. */
  readonly dataKeys: DataKeyStore;
}
