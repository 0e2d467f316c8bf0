import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { newId, newSecret, uuidV7 } from './ids.js';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const timeOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newId: UUIDv7 (RFC 9562)', () => {
  it('has version nibble 7 and variant bits 10', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newId();
      expect(id).toMatch(SHAPE);
      expect(id[14]).toBe('7');
      expect(parseInt(id[19]!, 16) >> 2).toBe(0b10);
    }
  });

  it('carries the creation time in unix milliseconds in its first 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(timeOf(id)).toBeGreaterThanOrEqual(before);
    expect(timeOf(id)).toBeLessThanOrEqual(after);
    expect(timeOf(uuidV7(0x0123456789ab))).toBe(0x0123456789ab);
    expect(uuidV7(0x0123456789ab).slice(0, 13)).toBe('01234567-89ab');
  });

  it('sorts by creation time across milliseconds, as text and as bytes', () => {
    const times = [1, 2, 1_700_000_000_000, 1_700_000_000_001, 1_735_689_600_000, 2 ** 48 - 1];
    for (let round = 0; round < 200; round++) {
      const ids = times.map((t) => uuidV7(t));
      expect([...ids].sort()).toEqual(ids);
    }
    // The real clock: an id made in a later millisecond sorts after one made earlier.
    const first = newId();
    const start = Date.now();
    while (Date.now() === start) {
      // wait for the next millisecond
    }
    expect(newId() > first).toBe(true);
  });

  it('makes 10,000 distinct ids, even within one millisecond', () => {
    const many = new Set(Array.from({ length: 10_000 }, () => newId()));
    expect(many.size).toBe(10_000);
    const sameMs = new Set(Array.from({ length: 10_000 }, () => uuidV7(1_735_689_600_000)));
    expect(sameMs.size).toBe(10_000);
  });

  it('is accepted by zod uuid checks, as are the UUIDv4 ids made before', () => {
    expect(z.uuid().safeParse(newId()).success).toBe(true);
    expect(z.string().uuid().safeParse(newId()).success).toBe(true);
    expect(z.uuid().safeParse(randomUUID()).success).toBe(true);
  });
});

describe('newSecret', () => {
  it('is 256 random bits in base64url', () => {
    const s = newSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret()).not.toBe(s);
  });
});
