import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { newId, newSecret } from '../core/ids.js';
import { AppError, conflict, tooMany, unauthorized } from '../core/errors.js';
import { DAY_MS, MINUTE_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { PatchMeBody, SignupBody, LoginBody } from '../../shared/schemas/account.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { AccountRow, SessionRow, Store } from '../store/types.js';
import { StoreConflictError } from '../store/errors.js';
import type { AuditService } from '../audit/service.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import { browserFamily } from './user-agent.js';
import { sweepUpTo, type SweepOptions } from '../store/sweep.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

export interface Authenticated {
  account: AccountRow;
  session: SessionRow;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface AccountsOptions {
  sessionTtlDays: number;
  /**
   * Failed logins allowed per email from one client address within the window: tight, it stops
   * guessing one password from there, and locks out only that address.
   */
  maxFailuresPerEmailAndAddress?: number;
  /**
   * Failed logins allowed per email from all addresses together: much higher, so knowing a
   * parent's email is not enough to keep them out, yet a distributed guess is still stopped.
   * A password reset lifts it.
   */
  maxFailuresPerAccount?: number;
  /** Sign-up attempts per client address per hour (accepted or not). */
  signupsPerAddressPerHour?: number;
  /**
   * Failed logins allowed per client address within the window: loose (OWASP), so it stops one
   * address spraying many accounts without locking out everyone behind it (an office or carrier
   * NAT, a test suite on 127.0.0.1) after one account's worth of failures.
   */
  maxFailuresPerAddress?: number;
  failureWindowMs?: number;
}

export interface AccountsDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  options: AccountsOptions;
  /** Where the sign-in and sign-up limits are counted; default: in this process. */
  limits?: RateLimits;
}

/** Accounts, passwords and sign-in sessions. Tokens are random, stored only as hashes. */
interface SignInKeys {
  pair: string;
  account: string;
  address: string;
}

export class AccountsService {
  private readonly revokeListeners: ((sessionIds: string[]) => void)[] = [];
  private readonly perEmailAndAddress: AttemptCounter;
  private readonly perAccount: AttemptCounter;
  private readonly perAddress: AttemptCounter;
  private readonly signupsPerAddress: AttemptCounter;
  private readonly ttlMs: number;

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;

  constructor(deps: AccountsDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    const { clock, options } = deps;
    const windowMs = options.failureWindowMs ?? 15 * MINUTE_MS;
    const limits = deps.limits ?? memoryRateLimits(clock);
    this.perEmailAndAddress = limits.attempts(
      'signin-email-address',
      options.maxFailuresPerEmailAndAddress ?? 5,
      windowMs,
    );
    this.perAccount = limits.attempts('signin-email', options.maxFailuresPerAccount ?? 50, windowMs);
    this.perAddress = limits.attempts('signin-address', options.maxFailuresPerAddress ?? 100, windowMs);
    this.signupsPerAddress = limits.attempts('signup-address', options.signupsPerAddressPerHour ?? 20, 60 * MINUTE_MS);
    this.ttlMs = options.sessionTtlDays * DAY_MS;
  }

  /**
   * Every attempt counts against the client's address, a refused one (email_taken) too: so
   * sign-up is neither a bulk oracle of which emails have accounts nor a source of free accounts
   * that multiply the per-account limits.
   */
  async signup(body: SignupBody, client: ClientInfo): Promise<{ token: string; account: AccountRow }> {
    const addressKey = `ip:${client.ip}`;
    const wait = await this.signupsPerAddress.take(addressKey);
    if (wait > 0) throw tooMany(wait);
    if (await this.store.accounts.findOne('email', body.email))
      throw conflict('email_taken', 'An account with this email already exists');
    const now = this.clock.now();
    const account: AccountRow = {
      id: newId(),
      email: body.email,
      name: body.name,
      locale: body.locale,
      passwordHash: await hashPassword(body.password),
      restricted: false,
      marketingOptIn: false,
      createdAt: now,
      passwordChangedAt: now,
      status: 'active',
      closedAt: null,
      purgeBy: null,
    };
    try {
      await this.store.accounts.insert(account);
    } catch (err) {
      // Two signups for one email at the same instant: the unique index decides.
      if (err instanceof StoreConflictError) throw conflict('email_taken', 'An account with this email already exists');
      throw err;
    }
    await this.audit.record(`account:${account.id}`, 'account.signup', account.id);
    const token = await this.openSession(account.id);
    await this.recordLogin(account.id, true, client);
    return { token, account };
  }

  /**
   * Only failures count, and an attempt refused with 429 is not checked at all (so it adds
   * nothing). Three limits: an email from one address (tight: that address waits, even with the
   * right password, but the parent elsewhere signs in), an email from everywhere (much higher,
   * lifted by a password reset), and one address across all emails (loose, for one address
   * spraying many accounts).
   */
  async login(body: LoginBody, client: ClientInfo): Promise<{ token: string; account: AccountRow }> {
    const keys = this.signInKeys(body.email, client.ip);
    const { account, ok } = await this.weighSignIn(body, keys);
    if (!account || !ok || account.status !== 'active') {
      await this.recordFailedSignIn(keys);
      await this.recordLogin(account?.id ?? null, false, client);
      // Only the right password learns that the account is closed and until when it can be
      // reopened; anyone else gets the same answer as for a wrong password.
      if (account && ok) this.throwIfClosed(account);
      throw new AppError('invalid_credentials', 401, 'Email or password is wrong');
    }
    await this.perEmailAndAddress.reset(keys.pair);
    const token = await this.openSession(account.id);
    await this.recordLogin(account.id, true, client);
    return { token, account };
  }

  /** The three counters a sign-in attempt is weighed by: the email from this address, the email, the address. */
  private signInKeys(email: string, ip: string): SignInKeys {
    const account = `account:${email}`;
    return { pair: `${account}\0ip:${ip}`, account, address: `ip:${ip}` };
  }

  /**
   * Refuses with 429 while any of the attempt's limits holds (so a refused attempt checks no
   * password and counts nothing); otherwise the account and whether the password is its own.
   * An unknown email costs one hash like a known one, so timing tells nothing.
   */
  private async weighSignIn(
    body: LoginBody,
    keys: SignInKeys,
  ): Promise<{ account: AccountRow | undefined; ok: boolean }> {
    const wait = Math.max(
      ...(await Promise.all([
        this.perEmailAndAddress.retryAfter(keys.pair),
        this.perAccount.retryAfter(keys.account),
        this.perAddress.retryAfter(keys.address),
      ])),
    );
    if (wait > 0) throw tooMany(wait);
    const account = await this.store.accounts.findOne('email', body.email);
    const ok = account
      ? await verifyPassword(account.passwordHash, body.password)
      : await verifyPassword(await dummyHash(), body.password).then(() => false);
    return { account, ok };
  }

  private async recordFailedSignIn(keys: SignInKeys): Promise<void> {
    await Promise.all([
      this.perEmailAndAddress.record(keys.pair),
      this.perAccount.record(keys.account),
      this.perAddress.record(keys.address),
    ]);
  }

  /** A closed account not yet purged: 403 account_closed with its purge date (fields.purgeBy, ISO). */
  private throwIfClosed(account: AccountRow): void {
    if (account.status === 'closed' && account.purgeBy !== null && account.purgeBy > this.clock.now()) {
      throw new AppError('account_closed', 403, 'This account is closed; it can be reopened until it is deleted', {
        purgeBy: toIso(account.purgeBy),
      });
    }
  }

  /**
   * POST /api/auth/reopen: the parent changes their mind before the purge. The right password
   * for a closed, not yet purged account makes it active again (the purge deadline is dropped)
   * and signs in; what closing deleted at once (children, photos) stays deleted. Anything else
   * is answered like a wrong password, with the same limits as signing in.
   */
  async reopen(body: LoginBody, client: ClientInfo): Promise<{ token: string; account: AccountRow }> {
    const keys = this.signInKeys(body.email, client.ip);
    const { account, ok } = await this.weighSignIn(body, keys);
    const now = this.clock.now();
    const reopened =
      account && ok
        ? await this.store.accounts.update(
            account.id,
            { status: 'active', closedAt: null, purgeBy: null },
            { if: (c) => c.status === 'closed' && c.purgeBy !== null && c.purgeBy > now },
          )
        : undefined;
    if (!reopened) {
      await this.recordFailedSignIn(keys);
      throw new AppError('invalid_credentials', 401, 'Email or password is wrong');
    }
    await this.perEmailAndAddress.reset(keys.pair);
    await this.audit.record(`account:${reopened.id}`, 'account.reopened', reopened.id, {});
    const token = await this.openSession(reopened.id);
    await this.recordLogin(reopened.id, true, client);
    return { token, account: reopened };
  }

  /** A password reset proves the parent owns the email: every sign-in lock on it is lifted. */
  async liftSignInLocks(email: string): Promise<void> {
    const { account } = this.signInKeys(email, '');
    await Promise.all([this.perAccount.reset(account), this.perEmailAndAddress.resetPrefix(`${account}\0`)]);
  }

  async logout(session: SessionRow): Promise<void> {
    await this.store.sessions.update(session.id, { revokedAt: this.clock.now() });
    this.announceRevoked([session.id]);
  }

  /** Told of every revoked session, so live sockets opened with it are closed at once. */
  onSessionsRevoked(listener: (sessionIds: string[]) => void): void {
    this.revokeListeners.push(listener);
  }

  private announceRevoked(sessionIds: string[]): void {
    if (sessionIds.length === 0) return;
    for (const l of this.revokeListeners) l(sessionIds);
  }

  /** The account and session behind a bearer token, or null when it is unknown, expired, revoked or closed. */
  async authenticate(token: string): Promise<Authenticated | null> {
    if (!token || token.length > 200) return null;
    const session = await this.store.sessions.findOne('tokenHash', tokenHash(token));
    if (!session || session.revokedAt !== null || session.expiresAt <= this.clock.now()) return null;
    const account = await this.store.accounts.get(session.accountId);
    if (!account || account.status !== 'active') return null;
    return { account, session };
  }

  async get(accountId: string): Promise<AccountRow | undefined> {
    return this.store.accounts.get(accountId);
  }

  async findByEmail(email: string): Promise<AccountRow | undefined> {
    return this.store.accounts.findOne('email', email);
  }

  /** How many accounts are open and closed, and which open ones have processing restricted (P12). */
  async census(): Promise<{ active: number; closed: number; restrictedIds: string[] }> {
    const active = await this.store.accounts.findBy('status', 'active');
    const closed = await this.store.accounts.findBy('status', 'closed');
    return {
      active: active.length,
      closed: closed.length,
      restrictedIds: active.filter((a) => a.restricted).map((a) => a.id),
    };
  }

  /** The account's sessions that still authenticate (none once the account is closed). */
  async liveSessions(accountId: string): Promise<SessionRow[]> {
    const account = await this.store.accounts.get(accountId);
    if (!account || account.status !== 'active') return [];
    const now = this.clock.now();
    return (await this.store.sessions.findBy('accountId', accountId)).filter(
      (s) => s.revokedAt === null && s.expiresAt > now,
    );
  }

  async checkPassword(account: AccountRow, password: string): Promise<boolean> {
    return verifyPassword(account.passwordHash, password);
  }

  /** Rectify the account; email and password changes re-check the current password. */
  async update(auth: Authenticated, body: PatchMeBody): Promise<AccountRow> {
    const { account } = auth;
    const patch: Partial<AccountRow> = {};
    if (body.email !== undefined || body.newPassword !== undefined) {
      if (!body.currentPassword || !(await verifyPassword(account.passwordHash, body.currentPassword))) {
        throw new AppError('wrong_password', 403, 'The current password is wrong', {
          currentPassword: 'Wrong password',
        });
      }
    }
    if (body.name !== undefined) patch.name = body.name;
    if (body.locale !== undefined) patch.locale = body.locale;
    if (body.marketingOptIn !== undefined) patch.marketingOptIn = body.marketingOptIn;
    if (body.email !== undefined && body.email !== account.email) {
      const other = await this.store.accounts.findOne('email', body.email);
      if (other) throw conflict('email_taken', 'An account with this email already exists');
      patch.email = body.email;
    }
    if (body.newPassword !== undefined) {
      patch.passwordHash = await hashPassword(body.newPassword);
      patch.passwordChangedAt = this.clock.now();
    }
    let updated: AccountRow | undefined;
    try {
      updated = await this.store.accounts.update(account.id, patch);
    } catch (err) {
      if (err instanceof StoreConflictError) throw conflict('email_taken', 'An account with this email already exists');
      throw err;
    }
    if (!updated) throw unauthorized();
    if (body.newPassword !== undefined) {
      await this.revokeSessions(account.id, auth.session.id);
      await this.audit.record(`account:${account.id}`, 'account.password_change', account.id);
    }
    if (patch.email) await this.audit.record(`account:${account.id}`, 'account.email_change', account.id);
    if (body.marketingOptIn !== undefined) {
      await this.audit.record(`account:${account.id}`, 'account.marketing_opt', account.id, {
        optIn: body.marketingOptIn,
      });
    }
    return updated;
  }

  /**
   * A new password from a used reset link: hashed here, written only while the account is open.
   * Returns the updated row, or undefined when the account is gone or closed.
   */
  async setPassword(accountId: string, newPassword: string): Promise<AccountRow | undefined> {
    const passwordHash = await hashPassword(newPassword);
    return this.store.accounts.update(
      accountId,
      { passwordHash, passwordChangedAt: this.clock.now() },
      { if: (c) => c.status === 'active' },
    );
  }

  /** Close an open account (P10) with its purge deadline; undefined when it was not open. */
  async close(accountId: string, at: number, purgeBy: number): Promise<AccountRow | undefined> {
    return this.store.accounts.update(
      accountId,
      { status: 'closed', closedAt: at, purgeBy },
      { if: (c) => c.status === 'active' },
    );
  }

  /** Restrict processing (P12) or lift it, on an open account only; undefined when it was not open. */
  async setRestricted(accountId: string, restricted: boolean): Promise<AccountRow | undefined> {
    return this.store.accounts.update(accountId, { restricted }, { if: (c) => c.status === 'active' });
  }

  /** The open accounts that existed at `at` (a policy published then is theirs to be told of). */
  async openAccountIds(createdBy: number): Promise<string[]> {
    return (await this.store.accounts.findBy('status', 'active'))
      .filter((a) => a.createdAt <= createdBy)
      .map((a) => a.id);
  }

  /** The account's part of the data export (P11): the account, its sign-ins and its sessions, oldest first. */
  async exportFor(accountId: string): Promise<Pick<ExportDocument, 'account' | 'logins' | 'sessions'> | undefined> {
    const account = await this.store.accounts.get(accountId);
    if (!account) return undefined;
    const byTime =
      <T extends { id: string }>(key: (r: T) => number) =>
      (a: T, b: T) =>
        key(a) - key(b) || a.id.localeCompare(b.id);
    const [logins, sessions] = await Promise.all([
      this.store.logins.findBy('accountId', accountId),
      this.store.sessions.findBy('accountId', accountId),
    ]);
    return {
      account: {
        id: account.id,
        email: account.email,
        name: account.name,
        locale: account.locale,
        status: account.status,
        restricted: account.restricted,
        marketingOptIn: account.marketingOptIn,
        createdAt: toIso(account.createdAt),
        passwordChangedAt: toIso(account.passwordChangedAt),
        closedAt: toIsoOrNull(account.closedAt),
        purgeBy: toIsoOrNull(account.purgeBy),
      },
      logins: logins
        .sort(byTime((l) => l.at))
        .map((l) => ({ at: toIso(l.at), success: l.success, browser: l.uaFamily })),
      sessions: sessions.sort(byTime((x) => x.createdAt)).map((x) => ({
        createdAt: toIso(x.createdAt),
        expiresAt: toIso(x.expiresAt),
        revokedAt: toIsoOrNull(x.revokedAt),
      })),
    };
  }

  /**
   * The purge of a closed account (P10), this module's part: its sessions and sign-in records
   * go; the account row itself goes last, through remove(). Returns how many of each went.
   */
  async purgeSessionsAndLogins(accountId: string): Promise<{ sessions: number; logins: number }> {
    const sessions = await removeAll(this.store.sessions, await this.store.sessions.findBy('accountId', accountId));
    const logins = await removeAll(this.store.logins, await this.store.logins.findBy('accountId', accountId));
    return { sessions, logins };
  }

  /** The account row, the purge's last step: while it exists the purge counts as unfinished. */
  async remove(accountId: string): Promise<boolean> {
    return this.store.accounts.remove(accountId);
  }

  /** Revoke every session of the account, except `keepSessionId` when given. */
  async revokeSessions(accountId: string, keepSessionId?: string): Promise<number> {
    const now = this.clock.now();
    const revoked: string[] = [];
    for (const s of await this.store.sessions.findBy('accountId', accountId)) {
      if (s.id === keepSessionId || s.revokedAt !== null) continue;
      await this.store.sessions.update(s.id, { revokedAt: now });
      revoked.push(s.id);
    }
    this.announceRevoked(revoked);
    return revoked.length;
  }

  private async openSession(accountId: string): Promise<string> {
    const token = newSecret();
    const now = this.clock.now();
    await this.store.sessions.insert({
      id: newId(),
      accountId,
      tokenHash: tokenHash(token),
      createdAt: now,
      expiresAt: now + this.ttlMs,
      revokedAt: null,
    });
    return token;
  }

  private async recordLogin(accountId: string | null, success: boolean, client: ClientInfo): Promise<void> {
    await this.store.logins.insert({
      id: newId(),
      accountId,
      at: this.clock.now(),
      success,
      uaFamily: browserFamily(client.userAgent),
    });
  }

  /** Closed accounts (awaiting their purge), for retention. */
  async closedAccounts(): Promise<AccountRow[]> {
    return this.store.accounts.findBy('status', 'closed');
  }

  /** Retention: sessions that can no longer sign anyone in (expired, or revoked) are deleted. Returns how many. */
  async deleteDeadSessions(now: number, opts: SweepOptions): Promise<number> {
    const remove = (s: SessionRow) => this.store.sessions.remove(s.id);
    return (
      (await sweepUpTo(this.store.sessions, 'expiresAt', now, remove, opts)) +
      (await sweepUpTo(this.store.sessions, 'revokedAt', now, remove, opts))
    );
  }

  /** Retention (P13): login activity at or before the cutoff is deleted. Returns how many. */
  async deleteLoginsUpTo(cutoff: number, opts: SweepOptions): Promise<number> {
    return sweepUpTo(this.store.logins, 'at', cutoff, (l) => this.store.logins.remove(l.id), opts);
  }
}

async function removeAll(table: { remove(id: string): Promise<boolean> }, rows: { id: string }[]): Promise<number> {
  let n = 0;
  for (const r of rows) if (await table.remove(r.id)) n++;
  return n;
}
