import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from './types.js';
import { decrypt, encrypt } from './crypto.js';
import { atomicWrite } from './encrypted-file.js';
import { StoreOpenError } from './errors.js';

const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Encrypted files (photos) under DATA_DIR, sealed with the same key as the data. */
export class EncryptedBlobStore implements BlobStore {
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async put(id: string, bytes: Buffer): Promise<void> {
    await atomicWrite(this.path(id), encrypt(this.key, bytes, `blob:${id}`));
  }

  async get(id: string): Promise<Buffer | undefined> {
    let sealed: Buffer;
    try {
      sealed = await readFile(this.path(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return decrypt(this.key, sealed, `blob:${id}`);
    } catch {
      throw new StoreOpenError(`Cannot decrypt blob ${id}`);
    }
  }

  async remove(id: string): Promise<boolean> {
    try {
      await unlink(this.path(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => n.endsWith('.bin')).map((n) => n.slice(0, -4));
  }

  private path(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error('invalid blob id');
    return join(this.dir, `${id}.bin`);
  }
}
