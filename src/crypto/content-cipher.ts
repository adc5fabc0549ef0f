import { createCipheriv, createDecipheriv, generateKeySync, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { BoundedCache } from './bounded-cache.js';
import {
  associatedData,
  contextCheck,
  encodeHeader,
  KEY_CHECK_BYTES,
  MAX_SUBJECT_BYTES,
  NONCE_BYTES,
  parseCiphertext,
  TAG_BYTES,
} from './ciphertext-format.js';
import { ContentDecryptionError, DataKeyUnavailableError } from './content-errors.js';
import type { DataKeyStore, SubjectKeys, WrappedDataKey } from './data-key-store.js';
import { unwrapDataKey, wrapDataKey } from './dek-wrap.js';
import type { KekRing } from './kek.js';
import { NoncePool } from './nonce-pool.js';

export interface ContentCipherOptions {
  keks: KekRing;
  store: DataKeyStore;
  /** How many subjects keep their unwrapped data keys in memory; the least recently used go first. */
  cacheSubjects?: number;
}

export interface EncryptInput {
  recordId: string;
  field: string;
  /** The data subject: the user id, or the tenant id when there is no user. */
  subject: string;
  /** Stored as UTF-8, so lone surrogates come back as U+FFFD, exactly as the digests see them. */
  plaintext: string;
}

export interface DecryptInput {
  recordId: string;
  field: string;
  ciphertext: Buffer;
}

interface DataKey {
  version: number;
  key: KeyObject;
  check: Buffer;
}

/** One subject's keys as last read from the store; unwrapped lazily, one version at a time. */
interface SubjectEntry {
  stored: SubjectKeys;
  wrapped: Map<number, WrappedDataKey>;
  newest: number | undefined;
  unwrapped: Map<number, DataKey>;
}

/**
 * Envelope encryption of record content: AES-256-GCM under a per-subject data key, which the
 * store holds only wrapped by a key-encryption key. See ciphertext-format.ts for the bytes.
 *
 * Every encryption draws a random 96-bit nonce, and NIST bounds that at 2^32 encryptions per
 * key; a subject that busy (a large tenant) needs `rotateDataKey` well before then.
 */
export class ContentCipher {
  private readonly keks: KekRing;
  private readonly store: DataKeyStore;
  private readonly cache: BoundedCache<string, SubjectEntry>;
  private readonly loading = new Map<string, Promise<SubjectEntry>>();
  private readonly adding = new Map<string, Promise<SubjectEntry>>();
  private readonly nonces = new NoncePool(NONCE_BYTES);
  /**
   * Bumped whenever a subject's keys change, so a store read begun before that is not cached.
   * Per subject: with one counter for all, a burst of new subjects kept every cache cold.
   */
  private readonly generations = new Map<string, number>();

  constructor(options: ContentCipherOptions) {
    this.keks = options.keks;
    this.store = options.store;
    this.cache = new BoundedCache(options.cacheSubjects ?? 1024);
  }

  async encrypt({ recordId, field, subject, plaintext }: EncryptInput): Promise<Buffer> {
    checkName('record id', recordId);
    checkName('field', field);
    checkSubject(subject);
    let entry = await this.entry(subject);
    if (entry.newest === undefined) entry = await this.firstDataKey(subject, entry);
    const dataKey = this.unwrap(entry, mustHave(entry.newest));
    const header = encodeHeader({ subject, dekVersion: dataKey.version, keyCheck: dataKey.check, contextCheck: contextCheck(recordId, field) });
    const nonce = this.nonces.next();
    const cipher = createCipheriv('aes-256-gcm', dataKey.key, nonce).setAAD(associatedData(recordId, field, header));
    return Buffer.concat([header, nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  }

  async decrypt({ recordId, field, ciphertext }: DecryptInput): Promise<string> {
    const fail = (reason: ContentDecryptionError['reason'], detail: string) => new ContentDecryptionError(reason, recordId, field, detail);
    const parsed = parseCiphertext(ciphertext);
    if ('malformed' in parsed) throw fail('malformed', `not a content ciphertext: ${parsed.malformed}`);
    const { dekVersion: version } = parsed;
    let entry = await this.entry(parsed.subject);
    // Another process may have rotated this subject's key since it was cached.
    if (!entry.wrapped.has(version)) entry = await this.entry(parsed.subject, { fresh: true });
    if (!entry.wrapped.has(version)) {
      if (version >= 1 && version <= entry.stored.erasedThrough)
        throw fail('key-erased', `data key v${version} was destroyed when its subject was erased; this content can never be decrypted`);
      throw fail(
        'unknown-key',
        `the key store holds no data key v${version} for the subject the ciphertext names: it was sealed against another key store, or its header was altered`,
      );
    }
    let dataKey: DataKey;
    try {
      dataKey = this.unwrap(entry, version);
    } catch (err) {
      if (err instanceof DataKeyUnavailableError) throw fail(err.reason, err.message);
      throw err;
    }
    if (!timingSafeEqual(dataKey.check, parsed.keyCheck)) {
      throw fail(
        'wrong-key',
        `it was not sealed with data key v${version}, the key its header names: the key label was changed, or the key store holds a different key under that version`,
      );
    }
    if (!timingSafeEqual(contextCheck(recordId, field), parsed.contextCheck)) {
      throw fail('wrong-record-or-field', 'it was sealed for a different record or field (or its context check bytes were altered)');
    }
    const decipher = createDecipheriv('aes-256-gcm', dataKey.key, parsed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(recordId, field, parsed.header)).setAuthTag(parsed.tag);
    try {
      return Buffer.concat([decipher.update(parsed.body), decipher.final()]).toString('utf8');
    } catch {
      throw fail('tampered', 'authentication failed although the key and context match its header: the ciphertext was altered');
    }
  }

  /** Adds a new data key version for the subject; later encryptions use it, older content still decrypts. */
  async rotateDataKey(subject: string): Promise<{ version: number }> {
    checkSubject(subject);
    const entry = await this.addDataKey(subject, await this.entry(subject, { fresh: true }));
    return { version: mustHave(entry.newest) };
  }

  /** Re-wraps the subject's data keys under the newest KEK. Content ciphertexts are not touched. */
  async rewrap(subject: string): Promise<{ rewrapped: number }> {
    const { keys } = await this.store.get(subject);
    let rewrapped = 0;
    for (const stored of keys) {
      if (stored.kekId === this.keks.newest.id) continue;
      if (await this.store.replace(wrapDataKey(unwrapDataKey(stored, this.keks), subject, stored.version, this.keks.newest))) rewrapped++;
    }
    if (rewrapped > 0) this.forget(subject);
    return { rewrapped };
  }

  /** The id of the key-encryption key that wraps new data keys (and every key after a rewrap). */
  get currentKekId(): string {
    return this.keks.newest.id;
  }

  /** Re-wraps every subject's data keys, after which older KEKs can be retired. */
  async rewrapAll(): Promise<{ subjects: number; rewrapped: number }> {
    const subjects = await this.store.subjects();
    let rewrapped = 0;
    for (const subject of subjects) rewrapped += (await this.rewrap(subject)).rewrapped;
    return { subjects: subjects.length, rewrapped };
  }

  /**
   * Crypto-shredding: destroys every data key of the subject, in the store and in this
   * process's cache, so none of its content can be decrypted again. Other processes sharing
   * the store drop their cached copy only when it is evicted or they restart.
   */
  async destroySubject(subject: string): Promise<{ keysDestroyed: number }> {
    this.forget(subject);
    const keysDestroyed = await this.store.destroy(subject);
    this.forget(subject);
    return { keysDestroyed };
  }

  private forget(subject: string): void {
    this.generations.set(subject, (this.generations.get(subject) ?? 0) + 1);
    this.cache.delete(subject);
    this.loading.delete(subject);
  }

  private entry(subject: string, { fresh = false } = {}): Promise<SubjectEntry> {
    const cached = fresh ? undefined : this.cache.get(subject);
    if (cached) return Promise.resolve(cached);
    const inFlight = fresh ? undefined : this.loading.get(subject);
    if (inFlight) return inFlight;
    const generation = this.generations.get(subject);
    const load = this.store.get(subject).then((stored) => {
      const entry = toEntry(stored);
      if (generation === this.generations.get(subject)) this.cache.set(subject, entry);
      return entry;
    });
    this.loading.set(subject, load);
    const settled = () => {
      if (this.loading.get(subject) === load) this.loading.delete(subject);
    };
    load.then(settled, settled);
    return load;
  }

  /** Concurrent first encryptions for a new subject share one new data key instead of racing to add their own. */
  private firstDataKey(subject: string, current: SubjectEntry): Promise<SubjectEntry> {
    let adding = this.adding.get(subject);
    if (!adding) {
      adding = this.addDataKey(subject, current).finally(() => this.adding.delete(subject));
      this.adding.set(subject, adding);
    }
    return adding;
  }

  /**
   * Creates the next data key version. If another writer added that version first, its key is
   * used; if the store refused the version because another process erased it meanwhile, the
   * next version is tried.
   */
  private async addDataKey(subject: string, current: SubjectEntry): Promise<SubjectEntry> {
    let entry = current;
    for (let attempt = 0; attempt < 3; attempt++) {
      const version = Math.max(entry.newest ?? 0, entry.stored.erasedThrough) + 1;
      const dataKey = generateKeySync('aes', { length: 256 });
      await this.store.add(wrapDataKey(dataKey, subject, version, this.keks.newest));
      this.forget(subject);
      entry = await this.entry(subject);
      if (entry.newest !== undefined && entry.newest >= version) return entry;
    }
    throw new Error('could not add a data key: the data key store kept refusing new versions');
  }

  private unwrap(entry: SubjectEntry, version: number): DataKey {
    const cached = entry.unwrapped.get(version);
    if (cached) return cached;
    const key = unwrapDataKey(mustHave(entry.wrapped.get(version)), this.keks);
    const check = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'llm-ledger/key-check/v1', KEY_CHECK_BYTES));
    const dataKey = { version, key, check };
    entry.unwrapped.set(version, dataKey);
    return dataKey;
  }
}

function toEntry(stored: SubjectKeys): SubjectEntry {
  const wrapped = new Map(stored.keys.map((key) => [key.version, key]));
  const newest = stored.keys.length === 0 ? undefined : Math.max(...wrapped.keys());
  return { stored, wrapped, newest, unwrapped: new Map() };
}

function mustHave<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('internal error: a data key vanished between lookup and use');
  return value;
}

function checkName(what: string, value: string): void {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} must be a non-empty string`);
}

function checkSubject(subject: string): void {
  const bytes = typeof subject === 'string' ? Buffer.byteLength(subject, 'utf8') : 0;
  // The subject is personal data, so the message describes it without repeating it.
  if (bytes === 0 || bytes > MAX_SUBJECT_BYTES || !subject.isWellFormed()) {
    throw new TypeError(`subject must be well-formed text of 1 to ${MAX_SUBJECT_BYTES} UTF-8 bytes`);
  }
}
