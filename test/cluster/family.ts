import type { AccountModel, Model } from '../faults/model.js';
import { call, completedEvent, deliver, type Target } from '../faults/workload.js';

/** What the default packs cost (server/config CREDIT_PACKS): Stripe's amount_total must match the pack's price. */
const PRICES: Record<string, number> = { 'pack-10': 4900, 'pack-30': 9900, 'pack-60': 14900 };

export interface ClusterFamily {
  token: string;
  accountId: string;
  profileId: string;
  email: string;
  password: string;
  /** What the fault suite's invariants (test/faults/invariants.ts) hold the store to. */
  model: AccountModel;
}

/**
 * A parent who may call, made as the extension makes one, through `t.url` (one process, or the
 * balancer): sign-up, consent, one child, and a pack paid through Stripe's signed webhook (which
 * also verifies the consent by card payment). Every acknowledged step goes into `model`.
 */
export async function readyFamily(t: Target, model: Model, packId = 'pack-30'): Promise<ClusterFamily> {
  const a = model.newAccount();
  const fail = (what: string, res: Awaited<ReturnType<typeof call>>): never => {
    throw new Error(`${what}: ${res?.status} ${JSON.stringify(res?.body)}`);
  };
  const signup = await call(t, 'POST', '/api/auth/signup', {
    body: { email: a.email, password: a.password, name: 'Cluster Parent', locale: 'en' },
  });
  if (signup?.status !== 201) fail('sign-up', signup);
  a.signup = 'acked';
  a.token = String(signup!.body.token);
  a.accountId = String((signup!.body.account as { id: string }).id);
  const token = a.token;
  const policy = await call(t, 'GET', '/api/policy');
  const consent = await call(t, 'POST', '/api/consent', { token, body: { policyVersion: policy?.body.version } });
  if (consent?.status !== 201) fail('consent', consent);
  const profile = await call(t, 'POST', '/api/profiles', {
    token,
    body: { name: 'Ada', age: 6, language: 'en', wishList: ['a red kite'] },
  });
  if (profile?.status !== 201) fail('profile', profile);
  const profileId = String(profile!.body.id);
  a.liveProfiles.add(profileId);
  const checkout = await call(t, 'POST', '/api/credits/checkout', { token, body: { packId } });
  if (checkout?.status !== 200) fail('checkout', checkout);
  const sessionId = new URL(String(checkout!.body.url)).pathname.split('/').pop() ?? '';
  const eventId = model.uniqueEventId();
  const payload = completedEvent(eventId, sessionId, a.accountId, packId, PRICES[packId] ?? 0);
  const ev = { eventId, sessionId, payload, seconds: t.packs[packId] ?? 0, state: 'pending' as const };
  a.events.push(ev);
  const paid = await deliver(t, payload);
  if (paid?.status !== 200) fail('webhook', paid);
  a.events[a.events.length - 1] = { ...ev, state: 'acked' };
  return { token, accountId: a.accountId, profileId, email: a.email, password: a.password, model: a };
}
