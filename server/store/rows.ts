import type { Locale } from '../../shared/locales.js';
import type { LedgerKind } from '../../shared/schemas/credits.js';
import type { CallEndReason } from '../../shared/schemas/calls.js';
import type { QuietHours } from '../../shared/schemas/profile.js';

// Store rows: epoch milliseconds for time, integer seconds for call time.

export interface AccountRow {
  id: string;
  email: string;
  name: string;
  locale: Locale;
  passwordHash: string;
  restricted: boolean;
  marketingOptIn: boolean;
  createdAt: number;
  passwordChangedAt: number;
  status: 'active' | 'closed';
  closedAt: number | null;
  /** Deadline for purging every personal field; data in the store so a restart loses none. */
  purgeBy: number | null;
}

export interface SessionRow {
  id: string;
  accountId: string;
  /** SHA-256 of the bearer token; the token itself is never stored. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface ProfileRow {
  id: string;
  accountId: string;
  name: string;
  age: number;
  wishList: string[];
  behaviorNotes: string;
  preferences: string;
  language: Locale;
  photoId: string | null;
  dailyMinutes: number | null;
  quietHours: QuietHours | null;
  /** The zone of the parent's controls (IANA); null or absent (rows from before it existed): UTC. */
  timeZone?: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface PhotoRow {
  id: string;
  accountId: string;
  profileId: string | null;
  mime: 'image/jpeg' | 'image/png' | 'image/webp';
  bytes: number;
  createdAt: number;
  /** Temporary uploads expire (<= 24 h); null once a profile saves the photo. */
  expiresAt: number | null;
}

export interface ConsentRow {
  id: string;
  accountId: string;
  policyVersion: string;
  at: number;
  method: string;
  verifiedAt: number | null;
  verifiedBy: string | null;
}

export interface PolicyRow {
  id: string;
  version: string;
  material: boolean;
  effectiveAt: number;
  publishedAt: number;
  text: { en: string; da: string; sv: string };
}

export interface NoticeRow {
  id: string;
  accountId: string;
  kind: 'policy_update' | string;
  policyVersion: string | null;
  effectiveAt: number | null;
  createdAt: number;
  readAt: number | null;
}

export interface LedgerRow {
  id: string;
  /** null once the account is purged: the entry stays for the books, without personal data. */
  accountId: string | null;
  kind: LedgerKind;
  /** Positive seconds; the kind says which way it moves the balance. */
  seconds: number;
  /** Unique per kind of effect (Stripe event/payment id, call id): replays are no-ops. */
  ref: string;
  callId: string | null;
  at: number;
  note: string | null;
}

export interface PaymentRow {
  id: string;
  accountId: string | null;
  provider: 'stripe' | 'dev';
  checkoutSessionId: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  packId: string;
  seconds: number;
  amount: number;
  currency: string;
  status: 'pending' | 'paid' | 'failed' | 'refunded' | 'partially_refunded' | 'disputed';
  amountRefunded: number;
  /**
   * Where a dispute left the money, moving forward only: an inquiry withdraws nothing;
   * `withdrawn` (and `lost`) take the purchase back; `won` gives it back. Absent on records
   * from before; a record with status 'disputed' and no value counts as withdrawn.
   */
  dispute?: 'inquiry' | 'withdrawn' | 'won' | 'lost';
  /**
   * Refunds known by id (refund.* events): amount, and whether it still stands (a refund that
   * failed or was canceled no longer does, and never stands again).
   */
  refunds?: Record<string, { amount: number; active: boolean }>;
  createdAt: number;
  paidAt: number | null;
}

export interface WebhookEventRow {
  id: string;
  type: string;
  receivedAt: number;
}

export interface CallRow {
  id: string;
  accountId: string | null;
  /** null once the profile is deleted: usage data keeps only an anonymous reference. */
  profileId: string | null;
  provider: 'openai' | 'simulated';
  providerCallId: string | null;
  heldSeconds: number;
  startedAt: number;
  /** Seconds metered by the server clock as of the last checkpoint. */
  meteredSeconds: number;
  checkpointAt: number;
  endedAt: number | null;
  reason: CallEndReason | null;
  settledAt: number | null;
  /**
   * The server process that meters the live call and holds its sideband (a random id per
   * process start), and until when: every checkpoint renews the lease in the same conditional
   * write. Once it has passed, any process may take the call over (server/calls/lease.ts).
   * null / 0 on a call no process owns (ended, or from before leases existed).
   */
  ownerId: string | null;
  leaseUntil: number;
  /** Which limit decided the held seconds: the reason the call ends with at zero, whoever meters it then. */
  limitReason: CallLimitReason | null;
  /**
   * An end asked for on a process that does not own the call (call:end, admin, account): the
   * owner ends the call with this reason, charging up to `at`, as soon as it reads it.
   */
  endRequest: { reason: CallEndReason; at: number } | null;
  /**
   * The call window's socket: on which process, and whether it is connected. The owner uses it
   * to tell the child's hang-up from the parent's end and to run the grace period when the
   * window is connected to another process.
   */
  window: { processId: string; socketId: string; connected: boolean } | null;
}

/** The limits that can end a call when its held seconds are used up. */
export type CallLimitReason = Extract<
  CallEndReason,
  'credit_exhausted' | 'max_duration' | 'daily_limit' | 'quiet_hours'
>;

export interface LoginRow {
  id: string;
  accountId: string | null;
  at: number;
  success: boolean;
  /** Browser family only (e.g. 'Chrome'); never the full user agent or IP. */
  uaFamily: string;
}

export interface AuditRow {
  id: string;
  seq: number;
  at: number;
  actor: string;
  action: string;
  /** Ids only (account, profile, call): never names, emails or profile text. */
  subject: string | null;
  details: Record<string, string | number | boolean | null>;
  prevHash: string;
  hash: string;
}

export interface OutboxRow {
  id: string;
  accountId: string | null;
  to: string;
  kind: 'essential' | 'marketing';
  template: string;
  locale: Locale;
  subject: string;
  body: string;
  createdAt: number;
  sentAt: number | null;
  attempts: number;
}

export interface PasswordResetRow {
  id: string;
  accountId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface SupportRow {
  id: string;
  accountId: string | null;
  kind: 'support' | 'feedback';
  subject: string;
  message: string;
  createdAt: number;
  closedAt: number | null;
  /** Communication data is kept for a stated period after it is closed. */
  deleteAfter: number | null;
}

export interface KeyValueRow {
  id: string;
  value: string | number | boolean | null | Record<string, unknown>;
  updatedAt: number;
}
