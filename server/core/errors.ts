import type { ErrorCode } from '../../shared/errors.js';

/** A typed, expected failure. Services throw these; adapters map them to the wire shape. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly fields?: Record<string, string>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const invalid = (message: string, fields?: Record<string, string>) =>
  new AppError('invalid_request', 400, message, fields);
export const unauthorized = (message = 'Sign in to continue') => new AppError('unauthorized', 401, message);
export const forbidden = (code: ErrorCode, message: string) => new AppError(code, 403, message);
export const notFound = (what = 'Not found') => new AppError('not_found', 404, what);
export const conflict = (code: ErrorCode, message: string) => new AppError(code, 409, message);
export const tooMany = (retryAfterSeconds: number, message = 'Too many attempts; try again later') =>
  new AppError('rate_limited', 429, message, undefined, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });

export function toWire(err: AppError): { error: { code: string; message: string; fields?: Record<string, string> } } {
  return { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } };
}
