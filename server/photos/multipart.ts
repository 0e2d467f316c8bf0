import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';
import { AppError, invalid } from '../core/errors.js';
import { PHOTO_MIMES, type PhotoMime } from './service.js';

/**
 * Room for everything in a multipart body besides the file: boundaries, part headers and a
 * few small text fields (a form's other inputs), which are read and dropped, never kept.
 */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const MAX_FIELDS = 16;
const MAX_FIELD_BYTES = 1024;

/**
 * The label on the file part. `null`: it names no image type, so the bytes decide. Busboy
 * reads a part with no Content-Type as text/plain (RFC 7578's default; Python's requests
 * sends file parts that way), and browsers send application/octet-stream for an unknown file.
 */
export type PartLabel = PhotoMime | null;

export interface FilePart {
  label: PartLabel;
  bytes: Buffer;
}

const UNLABELLED = new Set(['application/octet-stream', 'text/plain']);

const tooLarge = () => new AppError('payload_too_large', 413, 'The photo is larger than 2 MiB');
const malformed = () => invalid('The multipart body could not be read');

/**
 * Reads a multipart/form-data body that holds exactly one file part (any field name) into
 * memory, counting while it streams: past `maxBytes` it stops at once with 413, having held
 * at most `maxBytes` of the file. Nothing is written to disk and no part (file name, field
 * name or value, bytes) is logged or kept beyond the returned buffer. Refusals: 413 (too
 * large), 415 (a file part labelled as something other than an image), 400 (more than one
 * file, none, too many parts, an image sent without a file name, malformed multipart).
 * On a refusal the rest of the request is read and dropped, so the client gets the answer.
 */
export function readOneFilePart(req: IncomingMessage, maxBytes: number): Promise<FilePart> {
  const bodyCap = maxBytes + MULTIPART_OVERHEAD_BYTES;
  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > bodyCap) return Promise.reject(tooLarge());

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      // fileSize one past the cap: busboy flags a file that reaches its limit as truncated,
      // while a file of exactly maxBytes is allowed; our own count below refuses maxBytes + 1.
      limits: {
        files: 1,
        fileSize: maxBytes + 1,
        fields: MAX_FIELDS,
        fieldSize: MAX_FIELD_BYTES,
        parts: MAX_FIELDS + 1,
        headerPairs: 32,
      },
    });
  } catch {
    // No boundary, or a Content-Type busboy cannot parse.
    return Promise.reject(invalid('The multipart body needs a boundary in its Content-Type'));
  }

  return new Promise<FilePart>((resolve, reject) => {
    let settled = false;
    let file: FilePart | null = null;
    let received = 0;
    let chunks: Buffer[] = [];

    const fail = (err: AppError) => {
      if (settled) return;
      settled = true;
      chunks = [];
      // No more input reaches busboy, so it goes quiet and is collected. It is not destroyed:
      // this often runs inside busboy's own write (a 'data' or 'file' event), and busboy
      // touches its file stream again after that event returns.
      req.unpipe(bb);
      // Drain and drop whatever the client still sends, so it reads the refusal.
      req.resume();
      reject(err);
    };

    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > bodyCap) fail(tooLarge());
    });
    req.once('error', () => fail(malformed()));
    req.once('close', () => {
      if (!req.complete) fail(malformed());
    });

    bb.on('file', (_name, stream, info) => {
      stream.on('error', () => fail(malformed()));
      const mime = info.mimeType.toLowerCase();
      const label = (PHOTO_MIMES as readonly string[]).includes(mime) ? (mime as PhotoMime) : null;
      if (label === null && !UNLABELLED.has(mime)) {
        stream.resume();
        return fail(
          new AppError('unsupported_media_type', 415, 'Send the photo as image/jpeg, image/png or image/webp'),
        );
      }
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > maxBytes) return fail(tooLarge());
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge()));
      stream.on('end', () => {
        if (!settled) file = { label, bytes: Buffer.concat(chunks, size) };
      });
    });
    bb.on('field', (_name, _value, info) => {
      // A part without a file name is a field to busboy; an image there would arrive cut and
      // decoded as text, so it is refused with a hint rather than misread.
      if ((PHOTO_MIMES as readonly string[]).includes(info.mimeType.toLowerCase())) {
        fail(invalid('Send the photo as a file part (with a filename in its Content-Disposition)'));
      }
    });
    bb.on('filesLimit', () => fail(invalid('Send exactly one file')));
    bb.on('fieldsLimit', () => fail(invalid('The multipart body has too many parts')));
    bb.on('partsLimit', () => fail(invalid('The multipart body has too many parts')));
    bb.on('error', () => fail(malformed()));
    bb.on('close', () => {
      if (settled) return;
      if (!file) return fail(invalid('Send one image file in the multipart body'));
      settled = true;
      resolve(file);
    });
    req.pipe(bb);
  });
}
