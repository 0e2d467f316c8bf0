import sharp from 'sharp';
import { sweepUpTo } from '../store/sweep.js';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { AppError, invalid, notFound, tooMany } from '../core/errors.js';
import { HOUR_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { PhotoRow, Store } from '../store/types.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import { ConcurrencyLimit } from '../core/concurrency.js';

export type PhotoMime = PhotoRow['mime'];
export const PHOTO_MIMES: readonly PhotoMime[] = ['image/jpeg', 'image/png', 'image/webp'];

export interface PhotosOptions {
  /** How long an upload lives unless a profile saves it (P14: at most 24 h). */
  ttlMs?: number;
  /** Longest side of the stored image, in pixels. */
  maxDimension?: number;
  /** Uploads (accepted or not) per account per window. */
  uploadsPerWindow?: number;
  uploadWindowMs?: number;
  /** Images decoded at once, server-wide, and how many may wait for a turn (503 beyond). */
  decodeConcurrency?: number;
  decodeQueue?: number;
}

export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;
const DEFAULTS = {
  ttlMs: 24 * HOUR_MS,
  maxDimension: 1024,
  uploadsPerWindow: 30,
  uploadWindowMs: HOUR_MS,
  decodeConcurrency: 2,
  decodeQueue: 4,
} as const;

/**
 * Decoding is where image bombs bite: a 2 MB PNG can claim 100 000 x 100 000 pixels.
 * 40 megapixels covers any phone photo and bounds the decoder's memory.
 */
const MAX_INPUT_PIXELS = 40_000_000;

/** The real format, read from the first bytes; the Content-Type header is only a claim. */
export function sniffImage(bytes: Buffer): PhotoMime | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  return null;
}

const SHARP_FORMAT: Record<PhotoMime, 'jpeg' | 'png' | 'webp'> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
};

const notAnImage = () => new AppError('unsupported_image', 400, 'The body is not a JPEG, PNG or WebP image');

export interface PhotosDeps {
  store: Store;
  clock: Clock;
  options?: PhotosOptions;
  /** Where the upload limit is counted; default: in this process. */
  limits?: RateLimits;
}

/**
 * Photo uploads (P14). An upload is re-encoded (which drops EXIF, GPS, XMP, ICC and text
 * chunks), bounded in size, sealed into the encrypted blob store and kept as a temporary
 * row that expires after 24 h unless a profile claims it.
 */
/** A photo as the data export holds it. */
export type ExportPhoto = ExportDocument['temporaryPhotos'][number];

export class PhotosService {
  private readonly opts: Required<PhotosOptions>;
  private readonly uploads: AttemptCounter;
  private readonly decodes: ConcurrencyLimit;

  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: PhotosDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    const { clock, options = {} } = deps;
    this.opts = { ...DEFAULTS, ...options };
    // A fixed-window counter: every upload attempt counts, since decoding costs CPU either way.
    this.uploads = (deps.limits ?? memoryRateLimits(clock)).attempts(
      'photo-uploads',
      this.opts.uploadsPerWindow,
      this.opts.uploadWindowMs,
    );
    this.decodes = new ConcurrencyLimit(this.opts.decodeConcurrency, this.opts.decodeQueue, 'photos');
  }

  /** Throws 429 (with Retry-After) once the account has used its uploads for this window. */
  async checkRate(accountId: string): Promise<void> {
    const wait = await this.uploads.take(accountId);
    if (wait > 0) throw tooMany(wait, 'Too many photo uploads; try again later');
  }

  /**
   * Store an upload. `declared` is the Content-Type the client sent; bytes that are really
   * another image format are refused with 415 rather than silently relabelled, so what a
   * client believes it uploaded and what the server keeps never differ. `'sniff'`: the client
   * named no image type (a multipart file part labelled application/octet-stream or not at
   * all), so the bytes decide, and bytes that are no JPEG, PNG or WebP are 415.
   */
  async upload(accountId: string, declared: PhotoMime | 'sniff', bytes: Buffer): Promise<PhotoRow> {
    await this.checkRate(accountId);
    if (bytes.length === 0) throw invalid('Send the image bytes as the request body');
    const real = sniffImage(bytes);
    if (!real && declared === 'sniff')
      throw new AppError('unsupported_media_type', 415, 'The file is not a JPEG, PNG or WebP image');
    if (!real) throw notAnImage();
    if (declared !== 'sniff' && real !== declared) {
      throw new AppError(
        'unsupported_media_type',
        415,
        `The body is ${real}, not ${declared}; send it with Content-Type ${real}`,
      );
    }
    const clean = await this.decodes.run(() => this.reencode(bytes, real));
    const now = this.clock.now();
    const row: PhotoRow = {
      id: newId(),
      accountId,
      profileId: null,
      mime: real,
      bytes: clean.length,
      createdAt: now,
      expiresAt: now + this.opts.ttlMs,
    };
    // Row first, file second: a crash in between leaves a temporary row the sweep removes,
    // never a file that no row accounts for.
    await this.store.photos.insert(row);
    try {
      await this.store.photoFiles.put(row.id, clean);
    } catch (err) {
      await this.store.photos.remove(row.id);
      throw err;
    }
    return row;
  }

  private async reencode(bytes: Buffer, mime: PhotoMime): Promise<Buffer> {
    const format = SHARP_FORMAT[mime];
    try {
      const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
      const meta = await image.metadata();
      // The magic number and the decoder must agree on what this is.
      if (meta.format !== format) throw notAnImage();
      // rotate() applies the EXIF orientation before the EXIF itself is dropped; sharp writes
      // no metadata unless asked (no withMetadata/keepExif here), so EXIF/GPS/XMP/ICC are gone.
      const pipeline = image
        .rotate()
        .resize(this.opts.maxDimension, this.opts.maxDimension, { fit: 'inside', withoutEnlargement: true });
      if (format === 'jpeg') return await pipeline.jpeg({ quality: 85, mozjpeg: true }).toBuffer();
      if (format === 'png') return await pipeline.png({ compressionLevel: 9 }).toBuffer();
      return await pipeline.webp({ quality: 85 }).toBuffer();
    } catch (err) {
      if (err instanceof AppError) throw err;
      // Truncated, corrupt or oversized (in pixels) images: the decoder's message stays out of the reply.
      throw notAnImage();
    }
  }

  /** The account's photo, if it is live (not expired). Foreign and missing ids look the same. */
  private async owned(accountId: string, photoId: string): Promise<PhotoRow | undefined> {
    const row = await this.store.photos.get(photoId);
    if (!row || row.accountId !== accountId) return undefined;
    if (row.expiresAt !== null && row.expiresAt <= this.clock.now()) return undefined;
    return row;
  }

  /**
   * Can `profileId` save this photo? It must be the account's own, live, and either still
   * temporary or already that profile's. Throws 400 naming `photoId` otherwise, the same
   * for another account's photo as for a missing one.
   */
  async assertClaimable(accountId: string, photoId: string, profileId: string): Promise<void> {
    const row = await this.owned(accountId, photoId);
    if (!row || (row.profileId !== null && row.profileId !== profileId)) throw badPhotoId();
  }

  /** Save a photo to a profile: it stops expiring. Conditional, so two profiles cannot both claim one upload. */
  async claim(accountId: string, photoId: string, profileId: string): Promise<void> {
    const now = this.clock.now();
    const updated = await this.store.photos.update(
      photoId,
      { profileId, expiresAt: null },
      {
        if: (c) =>
          c.accountId === accountId &&
          (c.profileId === profileId || (c.profileId === null && c.expiresAt !== null && c.expiresAt > now)),
      },
    );
    if (!updated) throw badPhotoId();
  }

  /** Delete a photo at once: the file first, then the row (a crash in between leaves a row pointing at nothing). */
  async remove(photoId: string): Promise<boolean> {
    const removedFile = await this.store.photoFiles.remove(photoId);
    const removedRow = await this.store.photos.remove(photoId);
    return removedFile || removedRow;
  }

  /** Every photo saved to a profile (profile deletion). Returns how many. */
  async removeForProfile(profileId: string): Promise<number> {
    let count = 0;
    for (const row of await this.store.photos.findBy('profileId', profileId)) if (await this.remove(row.id)) count++;
    return count;
  }

  /** The decrypted image for its owner; 404 for anyone else or when it is gone. */
  async read(accountId: string, photoId: string): Promise<{ mime: PhotoMime; bytes: Buffer }> {
    const row = await this.owned(accountId, photoId);
    const bytes = row ? await this.store.photoFiles.get(row.id) : undefined;
    if (!row || !bytes) throw notFound('No such photo');
    return { mime: row.mime, bytes };
  }

  /**
   * The account's photos for the data export (P11), each with its image as a data URL, keyed by
   * id: the profiles module puts each saved one beside its profile and lists the rest.
   */
  async exportFor(accountId: string): Promise<{ row: PhotoRow; view: ExportPhoto }[]> {
    const rows = await this.store.photos.findBy('accountId', accountId);
    return Promise.all(
      rows.map(async (p) => {
        const bytes = await this.store.photoFiles.get(p.id);
        const view: ExportPhoto = {
          id: p.id,
          mime: p.mime,
          bytes: p.bytes,
          createdAt: toIso(p.createdAt),
          expiresAt: toIsoOrNull(p.expiresAt),
          dataUrl: bytes ? `data:${p.mime};base64,${bytes.toString('base64')}` : null,
        };
        return { row: p, view };
      }),
    );
  }

  async listRows(accountId: string): Promise<PhotoRow[]> {
    return (await this.store.photos.findBy('accountId', accountId)).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Every photo of the account, saved or temporary (account deletion). Returns how many. */
  async deleteAllForAccount(accountId: string): Promise<number> {
    let count = 0;
    for (const row of await this.store.photos.findBy('accountId', accountId)) if (await this.remove(row.id)) count++;
    return count;
  }

  /**
   * Retention (P14): delete every temporary upload past its expiry, and any photo file no
   * row accounts for. Returns how many were deleted.
   */
  async sweepExpired(now: number = this.clock.now()): Promise<number> {
    // Uploads by their expiry (a range query, not a scan); one saved to a profile is kept.
    let count = await sweepUpTo(
      this.store.photos,
      'expiresAt',
      now,
      async (row) => row.profileId === null && this.remove(row.id),
      { batchSize: 200 },
    );
    for (const id of await this.store.photoFiles.list()) {
      if (!(await this.store.photos.get(id)) && (await this.store.photoFiles.remove(id))) count++;
    }
    return count;
  }
}

function badPhotoId(): AppError {
  return invalid('Unknown or expired photo', { photoId: 'Upload the photo again' });
}
