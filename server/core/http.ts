import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from './logger.js';
import { AppError, toWire } from './errors.js';

/** A Host header that is a host name or address with an optional port, and nothing else. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * This server's public base URL (no trailing slash): PUBLIC_URL when set. Otherwise the
 * request's own, from parts that cannot smuggle anything: the scheme is http or https only
 * (req.protocol follows X-Forwarded-Proto only from a TRUST_PROXY proxy, and even then anything
 * else falls back to the connection's own), and the host must look like a host.
 */
export function publicBaseUrl(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const forwarded = req.protocol;
  const scheme =
    forwarded === 'http' || forwarded === 'https'
      ? forwarded
      : (req.socket as { encrypted?: boolean }).encrypted
        ? 'https'
        : 'http';
  const host = req.get('host');
  return `${scheme}://${host && HOST.test(host) ? host : 'localhost'}`;
}

/** Express 5 forwards rejected promises; this keeps handlers typed and small. */
export function handler(fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return async (req, res, next: NextFunction) => {
    try {
      await fn(req, res);
    } catch (err) {
      next(err);
    }
  };
}

export function sendError(res: Response, err: AppError): void {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  // Every 401 names its scheme (RFC 9110 §15.5.2); those that know more set their own challenge.
  if (err.status === 401 && !res.hasHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', 'Bearer');
  res.status(err.status).json(toWire(err));
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Every failure leaves in the one JSON error shape, with the fitting status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof AppError) return sendError(res, err);
    const parserType = (err as BodyParserError | null)?.type;
    if (parserType === 'entity.parse.failed')
      return sendError(res, new AppError('invalid_json', 400, 'The body is not valid JSON'));
    if (parserType === 'entity.too.large')
      return sendError(res, new AppError('payload_too_large', 413, 'The body is too large'));
    if (parserType === 'charset.unsupported' || parserType === 'encoding.unsupported') {
      return sendError(res, new AppError('unsupported_media_type', 415, 'Unsupported body encoding'));
    }
    const status = (err as BodyParserError | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, new AppError('invalid_request', status, 'The request could not be read'));
    }
    logger.error(
      {
        err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
        path: req.path,
        method: req.method,
      },
      'unhandled error',
    );
    sendError(res, new AppError('internal_error', 500, 'Something went wrong on our side'));
  };
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  sendError(res, new AppError('not_found', 404, 'No such endpoint'));
};

/** Bodies with content must be JSON: anything else is 415, before the parser sees it. */
export const requireJson: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    return sendError(res, new AppError('unsupported_media_type', 415, 'Send the body as application/json'));
  }
  next();
};
