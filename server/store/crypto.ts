import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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

export function parseKey(raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new StoreOpenError('DATA_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

/**
 * The data key: DATA_KEY when set; otherwise a 0600 key file beside the data, generated
 * only for a new, empty data directory (a missing key for existing data is an error,
 * never a fresh key that would make the data unreadable).
 */
export function loadOrCreateKey(dataDir: string, configured: string | undefined, hasData: boolean): Buffer {
  if (configured) return parseKey(configured);
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8'));
  if (hasData) {
    throw new StoreOpenError(`${dataDir} holds encrypted data but neither DATA_KEY nor ${KEY_FILE} is present; refusing to start`);
  }
  const key = randomBytes(32);
  writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}
