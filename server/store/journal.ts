import { open, type FileHandle } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt, encrypt } from './crypto.js';
import { StoreOpenError } from './errors.js';
import { syncDir } from './encrypted-file.js';

/**
 * The write-ahead journal. A commit is one sealed record appended and fdatasync'ed: one small
 * write however many rows and shard files the commit touches, and all of it or none of it
 * after a crash. The shard files are brought up to date later, by a checkpoint; a start
 * replays every journal the manifest has not yet folded in.
 *
 * Record: 4-byte big-endian length, then an AES-256-GCM sealed payload whose associated data
 * names the journal and the record's position, so records cannot be moved, dropped from the
 * middle or replayed into another journal without failing their tag.
 */

const JOURNAL_FILE = /^journal-(\d{1,12})\.log$/;

export function journalFileName(generation: number): string {
  return `journal-${String(generation).padStart(8, '0')}.log`;
}

export function journalGeneration(fileName: string): number | null {
  const m = JOURNAL_FILE.exec(fileName);
  return m ? Number(m[1]) : null;
}

function recordContext(generation: number, seq: number): string {
  return `journal-${generation}#${seq}`;
}

export class Journal {
  private seq = 0;
  private goodSize = 0;
  private broken: string | null = null;

  private constructor(
    private readonly handle: FileHandle,
    private readonly key: Buffer,
    readonly generation: number,
    readonly path: string,
  ) {}

  /** A new, empty journal; the folder is synced so the file itself survives a crash. */
  static async create(dataDir: string, key: Buffer, generation: number): Promise<Journal> {
    const path = join(dataDir, journalFileName(generation));
    const handle = await open(path, 'wx', 0o600);
    try {
      await syncDir(dataDir);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new Journal(handle, key, generation, path);
  }

  /** Bytes appended so far; a checkpoint starts when this passes its threshold. */
  get size(): number {
    return this.goodSize;
  }

  /** Appends one record and returns once it is on the disk. */
  async append(payload: Buffer): Promise<void> {
    if (this.broken) throw new Error(`journal ${this.path} cannot be appended to: ${this.broken}`);
    const seq = this.seq + 1;
    const sealed = encrypt(this.key, payload, recordContext(this.generation, seq));
    const framed = Buffer.allocUnsafe(4 + sealed.length);
    framed.writeUInt32BE(sealed.length, 0);
    sealed.copy(framed, 4);
    try {
      await this.handle.write(framed, 0, framed.length, this.goodSize);
      await this.handle.datasync();
    } catch (err) {
      // Cut the half-written record off, or the next record would follow garbage and the
      // journal would not replay past it.
      await this.handle.truncate(this.goodSize).catch((truncErr: unknown) => {
        this.broken = truncErr instanceof Error ? truncErr.message : String(truncErr);
      });
      throw err;
    }
    this.seq = seq;
    this.goodSize += framed.length;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export interface JournalContents {
  records: Buffer[];
  /** Bytes at the end that belong to a record whose append never completed (never acknowledged). */
  tornBytes: number;
  bytes: number;
}

/**
 * Reads and decrypts a journal. Only the newest journal may end in a torn record (the commit
 * a crash interrupted, which no caller was told had succeeded); anything else that fails to
 * decrypt is damage, and the start stops with the file left as it is.
 */
export function readJournal(path: string, key: Buffer, generation: number, newest: boolean): JournalContents {
  const bytes = readFileSync(path);
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const seq = records.length + 1;
    const length = offset + 4 <= bytes.length ? bytes.readUInt32BE(offset) : -1;
    const end = offset + 4 + length;
    let payload: Buffer | null = null;
    if (length > 0 && end <= bytes.length) {
      try {
        payload = decrypt(key, bytes.subarray(offset + 4, end), recordContext(generation, seq));
      } catch {
        payload = null;
      }
    }
    if (payload) {
      records.push(payload);
      offset = end;
      continue;
    }
    // A record that runs to the end of the file, or a tail of zeros (the size of an append
    // reached the disk but its data did not), is the torn last commit.
    const reachesEnd = length < 0 || end >= bytes.length;
    const zerosOnly = bytes.subarray(offset).every((b) => b === 0);
    if (newest && (reachesEnd || zerosOnly)) return { records, tornBytes: bytes.length - offset, bytes: bytes.length };
    throw new StoreOpenError(
      `Cannot decrypt record ${seq} of ${path}: wrong DATA_KEY or a damaged file. The server will not start and the file was not changed.`,
    );
  }
  return { records, tornBytes: 0, bytes: bytes.length };
}
