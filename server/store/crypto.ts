import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { StoreOpenError } from './errors.js';

const MAGIC = Buffer.from('CSE1'); // Call Santa Encrypted, format 1
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE = 'data.key';

/** AES-256-GCM; the file's name is bound in as associated data, so files cannot be swapped. */
export function encrypt(key: Buffer, plaintext: Buffer, context: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([MAGIC, iv, body, cipher.getAuthTag()]);
}

export function decrypt(key: Buffer, sealed: Buffer, context: string): Buffer {
  if (sealed.length < MAGIC.length + IV_BYTES + TAG_BYTES || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('not an encrypted Call Santa data file');
  }
  const iv = sealed.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(MAGIC.length + IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/** 32 bytes from 64 hex characters or base64 (Node's lenient decoder, as always), or null. */
function rawKey(text: string): Buffer | null {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  return key.length === 32 ? key : null;
}

/** A key written as 32 bytes (the key file, a generated DATA_KEY); anything else is an error. */
export function parseKey(raw: string): Buffer {
  const key = rawKey(raw.trim());
  if (!key) throw new StoreOpenError('DATA_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

/** True when DATA_KEY is used as the key itself; false when it is a passphrase the key is derived from. */
export function isRawDataKey(raw: string): boolean {
  return rawKey(raw.trim()) !== null;
}

/**
 * Passphrase derivation. Fixed forever: changing the salt or any cost parameter would derive
 * another key and make every passphrase-keyed data directory unreadable (a test pins a vector).
 * The salt is app-specific rather than random because the key must come back from the
 * passphrase alone; N=2^15, r=8 costs about 32 MiB and well under a second, once, at start.
 */
export const DATA_KEY_SALT = 'call-santa/data-key/v1';
const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * DATA_KEY as configured: 64 hex characters or base64 of 32 bytes is the key itself (exactly as
 * before, so existing data opens with the same key); any other non-empty text is a passphrase.
 */
export function dataKeyFrom(raw: string): Buffer {
  const text = raw.trim();
  if (!text) throw new StoreOpenError('DATA_KEY is empty');
  return rawKey(text) ?? scryptSync(text, DATA_KEY_SALT, 32, SCRYPT_PARAMS);
}

/**
 * The data key: DATA_KEY when set; otherwise a 0600 key file beside the data, generated
 * only for a new, empty data directory (a missing key for existing data is an error,
 * never a fresh key that would make the data unreadable).
 */
export function loadOrCreateKey(dataDir: string, configured: string | undefined, hasData: boolean): Buffer {
  if (configured) return dataKeyFrom(configured);
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8'));
  if (hasData) {
    throw new StoreOpenError(
      `${dataDir} holds encrypted data but neither DATA_KEY nor ${KEY_FILE} is present; refusing to start`,
    );
  }
  const key = randomBytes(32);
  writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}
