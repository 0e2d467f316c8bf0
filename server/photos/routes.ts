import express, { Router, type RequestHandler, type Response } from 'express';
import { toIso } from '../../shared/units.js';
import { AppError, invalid } from '../core/errors.js';
import { handler } from '../core/http.js';
import { authOf } from '../accounts/auth.js';
import type { ProfilesService } from '../profiles/service.js';
import type { PhotoRow } from '../store/types.js';
import { PHOTO_MAX_BYTES, PHOTO_MIMES, type PhotoMime, type PhotosService } from './service.js';
import { readOneFilePart } from './multipart.js';

/** 201 for either form: `id` and `photoId` are the same value, so a client may read either name. */
function created(res: Response, row: PhotoRow): void {
  res.status(201).json({ id: row.id, photoId: row.id, expiresAt: toIso(row.expiresAt ?? row.createdAt) });
}

/**
 * POST /api/photos takes the raw image, or multipart/form-data with one file part (browser
 * FormData), not JSON. Mount this router on the app BEFORE the /api router, whose requireJson
 * would refuse an image body with 415.
 * Order: sign-in (401), declared type (415), size while reading (413), then the service.
 */
export function photoUploadRoutes(photos: PhotosService, requireAuth: RequestHandler): Router {
  const r = Router();
  r.post(
    '/',
    requireAuth,
    (req, res, next) => {
      if (req.is('multipart/form-data') !== 'multipart/form-data') return next();
      // A compressed body could hide far more than 2 MB: not read at all, as on the raw path.
      const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity')
        return next(new AppError('unsupported_media_type', 415, 'Send the photo without Content-Encoding'));
      readOneFilePart(req, PHOTO_MAX_BYTES)
        // A part that names no image type is typed by its bytes; one that does must match them.
        .then((part) => photos.upload(authOf(res).account.id, part.label ?? 'sniff', part.bytes))
        .then((row) => created(res, row), next);
    },
    (req, _res, next) => {
      const declared = req.is([...PHOTO_MIMES]);
      if (declared === false)
        return next(
          new AppError('unsupported_media_type', 415, 'Send the photo as image/jpeg, image/png or image/webp'),
        );
      if (declared === null) return next(invalid('Send the image bytes as the request body'));
      next();
    },
    // inflate: false - a compressed body could hide far more than 2 MB; it is refused with 415.
    express.raw({ type: [...PHOTO_MIMES], limit: PHOTO_MAX_BYTES, inflate: false }),
    handler(async (req, res) => {
      const declared = req.is([...PHOTO_MIMES]) as PhotoMime;
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      created(res, await photos.upload(authOf(res).account.id, declared, bytes));
    }),
  );
  return r;
}

/** GET /api/profiles/:id/photo: the decrypted image, to the profile's owner only. */
export function profilePhotoRoutes(profiles: ProfilesService): Router {
  const r = Router();
  r.get(
    '/profiles/:id/photo',
    handler(async (req, res) => {
      const { mime, bytes } = await profiles.photo(authOf(res).account.id, String(req.params.id));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Type', mime);
      res.setHeader('Content-Disposition', 'inline');
      res.status(200).end(bytes);
    }),
  );
  return r;
}
