import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured logs with redaction. Tokens, passwords, SDP, transcripts and profile text
 * never reach a log line: the paths below are censored wherever they appear, and code
 * logs ids and counts, never bodies.
 */
export const REDACT_PATHS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'sdp',
  'text',
  'transcript',
  'delta',
  'instructions',
  'wishList',
  'behaviorNotes',
  'preferences',
  'email',
  'name',
  'authorization',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.sdp',
  '*.text',
  '*.transcript',
  '*.delta',
  '*.instructions',
  '*.wishList',
  '*.behaviorNotes',
  '*.preferences',
  '*.email',
  '*.name',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
