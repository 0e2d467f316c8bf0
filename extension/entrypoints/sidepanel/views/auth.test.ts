import { describe, expect, it, vi } from 'vitest';
import type { Account } from '../../../../shared/index.js';
import type { FetchLike } from '../../../lib/api.js';
import { formatDate } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import { panelContext, viewTestFrame } from '../testing.js';
import { authView } from './auth.js';

const ACCOUNT: Account = {
  id: 'acc-1',
  email: 'parent@example.com',
  name: 'Pat',
  locale: 'en',
  restricted: false,
  marketingOptIn: false,
  consent: null,
  balanceSeconds: 0,
  availableSeconds: 0,
  deletion: null,
  notices: [],
};
const PURGE_BY = '2027-01-01T10:00:00.000Z';
const PASSWORD = 'correct horse battery staple';

/** The server's auth routes for one closed account (its password opens it again) and a server without email. */
const fetchFake =
  (requests: string[]): FetchLike =>
  async (url, init) => {
    const path = new URL(url).pathname;
    requests.push(path);
    const body = JSON.parse(String(init?.body ?? '{}')) as { password?: string };
    const wrong = () =>
      new Response(JSON.stringify({ error: { code: 'invalid_credentials', message: 'Email or password is wrong' } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    if (path === '/api/auth/login') {
      if (body.password !== PASSWORD) return wrong();
      return new Response(
        JSON.stringify({ error: { code: 'account_closed', message: 'closed', fields: { purgeBy: PURGE_BY } } }),
        { status: 403, headers: { 'content-type': 'application/json' } },
      );
    }
    if (path === '/api/auth/reopen')
      return body.password === PASSWORD ? json({ token: 'new-token', account: ACCOUNT }) : wrong();
    if (path === '/api/auth/password-reset/request')
      return new Response(JSON.stringify({ ok: true, delivery: 'outbox' }), {
        status: 202,
        headers: { 'content-type': 'application/json' },
      });
    return new Response('{}', { status: 404 });
  };

/** A form submit as the browser fires it (linkedom does not submit on a button click). */
function submitForm(root: HTMLElement): void {
  const ev = document.createEvent('Event');
  ev.initEvent('submit', true, true);
  root.querySelector('form')!.dispatchEvent(ev);
}

const settle = () => new Promise((r) => setTimeout(r, 0));

async function submit(root: HTMLElement, email: string, password: string): Promise<void> {
  root.querySelector<HTMLInputElement>('input[name="email"]')!.value = email;
  root.querySelector<HTMLInputElement>('input[name="password"]')!.value = password;
  submitForm(root);
  for (let i = 0; i < 5; i++) await settle();
}

describe('signing in to a closed account', () => {
  const ui = viewTestFrame();

  it('says the account is closed, until when, and reopens it with the same password', async () => {
    const requests: string[] = [];
    const signedIn = vi.fn(async () => undefined);
    const ctx = { ...panelContext({ view: 'auth', fetch: fetchFake(requests), raw: ui.raw }), signedIn };
    const view = authView(ctx);
    ui.doc.body.append(view);
    await submit(view, 'parent@example.com', PASSWORD);
    const box = view.querySelector<HTMLElement>('.closed-account')!;
    expect(box.hidden).toBe(false);
    expect(box.textContent).toContain(t('auth.closedTitle'));
    expect(box.textContent).toContain(t('auth.closedExplain', { date: formatDate(PURGE_BY) }));
    // Not "wrong password": that would be untrue.
    expect(view.textContent).not.toContain(t('errors.invalid_credentials'));
    box.querySelector<HTMLButtonElement>('button.reopen')!.click();
    for (let i = 0; i < 5; i++) await settle();
    expect(requests).toEqual(['/api/auth/login', '/api/auth/reopen']);
    expect(signedIn).toHaveBeenCalledWith('new-token', ACCOUNT);
  });

  it('a wrong password learns nothing about the account', async () => {
    const ctx = panelContext({ view: 'auth', fetch: fetchFake([]), raw: ui.raw });
    const view = authView(ctx);
    ui.doc.body.append(view);
    await submit(view, 'parent@example.com', 'not the password');
    expect(view.querySelector<HTMLElement>('.closed-account')!.hidden).toBe(true);
    expect(view.textContent).toContain(t('errors.invalid_credentials'));
  });
});

describe('a forgotten password on a server that sends no email', () => {
  const ui = viewTestFrame();

  it('does not promise a link "on its way"; it says where the link waits', async () => {
    const view = authView(panelContext({ view: 'auth', fetch: fetchFake([]), raw: ui.raw }));
    ui.doc.body.append(view);
    view.querySelector<HTMLButtonElement>('button.forgot')!.click();
    view.querySelector<HTMLInputElement>('input[name="email"]')!.value = 'parent@example.com';
    submitForm(view);
    for (let i = 0; i < 5; i++) await settle();
    expect(view.textContent).toContain(t('auth.resetNoMail'));
    expect(view.textContent).not.toContain(t('auth.resetSent'));
  });
});
