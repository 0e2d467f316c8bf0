import { pinAttemptsItem, pinItem, type PinRecord } from './settings.js';

/**
 * The optional parent PIN that guards the quick-call popup. It keeps a curious child from
 * starting calls on their own; it is not an account password, so a local PBKDF2 hash is enough.
 */
const ITERATIONS = 100_000;
export const PIN_PATTERN = /^\d{4,8}$/;

function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

async function derive(pin: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return toHex(bits);
}

export function isValidPin(pin: string): boolean {
  return PIN_PATTERN.test(pin);
}

export async function setPin(pin: string): Promise<void> {
  if (!isValidPin(pin)) throw new Error('A PIN is 4 to 8 digits');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const record: PinRecord = { hash: await derive(pin, salt, ITERATIONS), salt: toHex(salt), iterations: ITERATIONS };
  await pinItem.setValue(record);
}

export async function clearPin(): Promise<void> {
  await pinItem.setValue(null);
  await pinAttemptsItem.setValue({ failures: 0, waitUntil: 0 });
}

export async function hasPin(): Promise<boolean> {
  return (await pinItem.getValue()) !== null;
}

/**
 * Wrong PINs are slowed down, then locked for a while: a child trying every PIN from 0000
 * gets three free tries, then waits after each wrong one, and from the sixth wrong PIN in a
 * row waits five minutes each time. The count survives closing the popup (it is stored).
 */
export const PIN_FREE_TRIES = 3;
export const PIN_SLOW_WAIT_MS = 30_000;
export const PIN_LOCK_AFTER = 6;
export const PIN_LOCK_MS = 5 * 60_000;

export type PinCheck = { ok: true } | { ok: false; failures: number; waitUntil: number | null };

/** When the next try may be made, or null if now. */
export async function pinWaitUntil(now = Date.now()): Promise<number | null> {
  const { waitUntil } = await pinAttemptsItem.getValue();
  return waitUntil > now ? waitUntil : null;
}

/** Checks a PIN the parent typed, counting wrong ones; a try while waiting is refused unchecked. */
export async function tryPin(pin: string, now = Date.now()): Promise<PinCheck> {
  if (!(await hasPin())) return { ok: true };
  const attempts = await pinAttemptsItem.getValue();
  if (attempts.waitUntil > now) return { ok: false, failures: attempts.failures, waitUntil: attempts.waitUntil };
  if (await checkPin(pin)) {
    await pinAttemptsItem.setValue({ failures: 0, waitUntil: 0 });
    return { ok: true };
  }
  const failures = attempts.failures + 1;
  const wait = failures >= PIN_LOCK_AFTER ? PIN_LOCK_MS : failures >= PIN_FREE_TRIES ? PIN_SLOW_WAIT_MS : 0;
  const waitUntil = wait ? now + wait : 0;
  await pinAttemptsItem.setValue({ failures, waitUntil });
  return { ok: false, failures, waitUntil: wait ? waitUntil : null };
}

/** True when no PIN is set or the PIN matches. */
export async function checkPin(pin: string): Promise<boolean> {
  const record = await pinItem.getValue();
  if (!record) return true;
  if (!isValidPin(pin)) return false;
  const hash = await derive(pin, fromHex(record.salt), record.iterations);
  // Constant-time-ish compare; the hash is local, but there is no reason to leak timing.
  let diff = hash.length ^ record.hash.length;
  for (let i = 0; i < hash.length; i++) diff |= hash.charCodeAt(i) ^ (record.hash.charCodeAt(i) || 0);
  return diff === 0;
}
