import { randomBytes, randomUUID } from 'node:crypto';

/** Random, unguessable ids (UUIDv4; 122 random bits). Nothing sequential ever reaches a URL. */
export function newId(): string {
  return randomUUID();
}

/** An opaque secret for bearer tokens and one-time links: 256 random bits, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
