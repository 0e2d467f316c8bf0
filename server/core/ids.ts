import { randomBytes } from 'node:crypto';

/**
 * Random, unguessable ids: UUIDv7 (RFC 9562). Nothing sequential ever reaches a URL.
 *
 * The first 48 bits are the creation time in unix milliseconds, so ids sort by creation; the
 * other 74 bits (after the version and variant) come from crypto random, which keeps an id unguessable even to someone who knows when it was made.
 * The timestamp does tell the id's holder when the row was created: acceptable, as ids are
 * only ever shown to their owner (and to admins), who know that already. The wall clock, not
 * the injected Clock, on purpose: the time part only orders ids, it decides nothing.
 * Ids made before this were UUIDv4; both stay valid (nothing parses an id's version).
 */
export function newId(): string {
  return uuidV7(Date.now());
}

/** A UUIDv7 for this unix time in ms. Not monotonic within one millisecond (RFC 9562 allows it). */
export function uuidV7(unixMs: number): string {
  const b = randomBytes(16);
  b.writeUIntBE(unixMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An opaque secret for bearer tokens and one-time links: 256 random bits, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
