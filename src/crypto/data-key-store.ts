/** One version of a subject's data key, as stored: only ever wrapped by a KEK. */
export interface WrappedDataKey {
  subject: string;
  /** 1, 2, ... per subject; never reused, even after the subject's keys were destroyed. */
  version: number;
  kekId: string;
  /** Nonce, wrapped key and tag, as made by `wrapDataKey`. */
  wrapped: Buffer;
}

export interface SubjectKeys {
  keys: WrappedDataKey[];
  /** The highest version destroyed by an erasure, 0 if none: tells "erased" from "never existed". */
  erasedThrough: number;
}

/**
 * Where wrapped data keys live. Small and async so SQLite and PostgreSQL implementations can
 * follow; every method must be atomic on its own.
 */
export interface DataKeyStore {
  get(subject: string): Promise<SubjectKeys>;
  /** Adds a new version; false if that version already exists (another writer got there first). */
  add(key: WrappedDataKey): Promise<boolean>;
  /** Replaces the wrapping of an existing version (rewrap); false if it no longer exists. */
  replace(key: WrappedDataKey): Promise<boolean>;
  /** Destroys every version of a subject's key and remembers the highest; returns how many. */
  destroy(subject: string): Promise<number>;
  /** Subjects that hold at least one key. */
  subjects(): Promise<string[]>;
}
