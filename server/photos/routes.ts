import express, { Router, type RequestHandler } from 'express';
import { toIso } from '../../shared/units.js';
import { AppError, invalid } from '../core/errors.js';
import { handler } from '../core/http.js';
import { authOf } from '../accounts/auth.js';
import type { ProfilesService } from '../profiles/service.js';
import { PHOTO_MAX_BYTES, PHOTO_MIMES, type PhotoMime, type PhotosService } from './service.js';

/**
 * POST /api/photos takes the raw image, not JSON. Mount this router on the app BEFORE the
 * /api router, whose requireJson would refuse an image body with 415.
 * Order: sign-in (401), declared type (415), size while reading (413), then the service.
 */
export function photoUploadRoutes(photos: PhotosService, requireAuth: RequestHandler): Router {
  const r = Router();
  r.post(
    '/',
    requireAuth,
    (req, _res, next) => {
      const declared = req.is([...PHOTO_MIMES]);
      if (declared === false) return next(new AppError('unsupported_media_type', 415, 'Send the photo as image/jpeg, image/png or image/webp'));
      if (declared === null) return next(invalid('Send the image bytes as the request body'));
      next();
    },
    // inflate: false - a compressed body could hide far more than 2 MB; it is refused with 415.
    express.raw({ type: [...PHOTO_MIMES], limit: PHOTO_MAX_BYTES, inflate: false }),
    handler(async (req, res) => {
      const declared = req.is([...PHOTO_MIMES]) as PhotoMime;
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const row = await photos.upload(authOf(res).account.id, declared, bytes);
      res.status(201).json({ photoId: row.id, expiresAt: toIso(row.expiresAt ?? row.createdAt) });
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
