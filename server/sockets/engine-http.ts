import { ServerResponse, type IncomingMessage } from 'node:http';
import { AppError, toWire } from '../core/errors.js';

/** Connect-style middleware, as helmet returns and engine.io's `use()` runs. */
export type HttpMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** The part of engine.io's server this needs: its middleware chain and its refusal event. */
export interface EngineHttp {
  use(fn: HttpMiddleware): void;
  on(event: 'connection_error', listener: (err: { req: IncomingMessage; code: number }) => void): unknown;
}

/** engine.io's refusal codes (engine.io's `Server.errors`), answered in our words. */
const ENGINE_REFUSALS: Record<number, () => AppError> = {
  0: () =>
    new AppError('invalid_request', 400, 'Unknown transport: use polling or websocket', {
      transport: 'Unknown transport',
    }),
  1: () =>
    new AppError('invalid_request', 400, 'Unknown or expired connection id: open a new connection', {
      sid: 'Unknown connection id',
    }),
  2: () => new AppError('invalid_request', 400, 'A connection starts with a GET request'),
  3: () => new AppError('invalid_request', 400, 'The request could not be read'),
  4: () => new AppError('forbidden', 403, 'This connection is not allowed'),
  5: () =>
    new AppError(
      'invalid_request',
      400,
      'Unsupported protocol version: this server speaks Engine.IO 4 (socket.io 3 or later)',
      { EIO: 'Unsupported protocol version: use EIO=4' },
    ),
};

/** What a refusal by engine.io's polling transport itself (no refusal code) means, by its status. */
function transportRefusal(status: number, req: IncomingMessage): AppError {
  if (status === 413) return new AppError('payload_too_large', 413, 'The message is too large');
  if (status === 500 && req.method !== 'GET' && req.method !== 'POST')
    return new AppError('invalid_request', 400, 'Polling takes GET and POST only');
  if (status >= 500) return new AppError('internal_error', status, 'Something went wrong on our side');
  return new AppError('invalid_request', status, 'The request could not be read');
}

/**
 * socket.io's HTTP answers (engine.io long-polling, and the WebSocket upgrade's 101) bypass
 * Express, so neither helmet nor our error handler sees them. This gives them:
 * - the same security headers as every REST answer (the very helmet middleware Express uses),
 *   and `Cache-Control: no-store`, since a poll carries the account's events;
 * - refusals in the one JSON error shape (DESIGN §8). engine.io writes its own body
 *   (`{"code":5,"message":"Unsupported protocol version"}` for an EIO=3 client, an empty 400
 *   for an overlapping poll) from functions it offers no hook into, so the polling response's
 *   writeHead is wrapped: an error status replaces engine.io's body with ours. Its refusal code
 *   arrives first through 'connection_error', which engine.io emits right before it answers.
 *   The socket.io client reads only the status of a failed poll, so nothing it relies on changes.
 */
export function hardenEngineHttp(engine: EngineHttp, securityHeaders: HttpMiddleware): void {
  const refusalCodes = new WeakMap<IncomingMessage, number>();
  engine.on('connection_error', ({ req, code }) => refusalCodes.set(req, code));
  engine.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    if (res instanceof ServerResponse) answerRefusalsInOurShape(req, res, refusalCodes);
    // A WebSocket upgrade gets a stand-in response object, and engine.io checks the protocol
    // only after the 101 has gone out: an old client is refused here, before the upgrade.
    else if (protocolOf(req) !== '4') return refuseUpgrade(req, next);
    securityHeaders(req, res, next);
  });
}

function answerRefusalsInOurShape(
  req: IncomingMessage,
  res: ServerResponse,
  refusalCodes: WeakMap<IncomingMessage, number>,
): void {
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  const end = res.end.bind(res) as (body?: string, cb?: () => void) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    if (status < 400) return writeHead(status, ...rest);
    const code = refusalCodes.get(req);
    const err = (code !== undefined ? ENGINE_REFUSALS[code]?.() : undefined) ?? transportRefusal(status, req);
    const body = JSON.stringify(toWire(err));
    // engine.io ends the response right after (with its own body, or none): ours goes instead.
    res.end = ((...args: unknown[]) => {
      const cb = args.find((a): a is () => void => typeof a === 'function');
      return end(body, cb);
    }) as ServerResponse['end'];
    return writeHead(err.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
  }) as ServerResponse['writeHead'];
}

function protocolOf(req: IncomingMessage): string | null {
  return new URL(req.url ?? '/', 'http://localhost').searchParams.get('EIO');
}

/**
 * Answers the upgrade request itself, in our shape, then fails the middleware: engine.io then
 * finds the connection no longer writable, writes nothing of its own and closes it.
 */
function refuseUpgrade(req: IncomingMessage, next: (err?: unknown) => void): void {
  const err = ENGINE_REFUSALS[5]!();
  const body = JSON.stringify(toWire(err));
  req.socket.end(
    `HTTP/1.1 ${err.status} Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
  next(err);
}
