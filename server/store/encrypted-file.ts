import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Adapter } from 'lowdb';
import { decrypt, encrypt } from './crypto.js';
import { StoreOpenError } from './errors.js';

/**
 * A lowdb adapter that keeps one JSON document AES-256-GCM encrypted on disk. Writes are
 * atomic (temp file, fsync, rename, fsync of the folder), so a crash leaves either the old
 * or the new file, never half of one.
 */
export class EncryptedJSONFile<T> implements Adapter<T> {
  constructor(
    private readonly path: string,
    private readonly key: Buffer,
  ) {}

  async read(): Promise<T | null> {
    let sealed: Buffer;
    try {
      sealed = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let json: string;
    try {
      json = decrypt(this.key, sealed, basename(this.path)).toString('utf8');
    } catch {
      throw new StoreOpenError(
        `Cannot decrypt ${this.path}: wrong DATA_KEY or a damaged file. The server will not start and the file was not changed.`,
      );
    }
    try {
      return JSON.parse(json) as T;
    } catch {
      throw new StoreOpenError(
        `Cannot parse ${this.path} after decryption. The server will not start and the file was not changed.`,
      );
    }
  }

  async write(data: T): Promise<void> {
    const sealed = encrypt(this.key, Buffer.from(JSON.stringify(data)), basename(this.path));
    await atomicWrite(this.path, sealed);
  }
}

export async function atomicWrite(path: string, bytes: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** A created, renamed or removed file survives a crash only once its folder is synced. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
