import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Account, Notice, Policy } from '../../../../shared/index.js';
import type { FetchLike } from '../../../lib/api.js';
import { formatDate } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import type { PanelContext } from '../context.js';
import { panelContext, viewTestFrame } from '../testing.js';
import { privacyView } from './privacy.js';

const TEXT = { en: 'The policy.', da: 'Politikken.', sv: 'Policyn.' };
const V1: Policy = {
  version: '1',
  effectiveAt: '2026-10-01T00:00:00.000Z',
  material: true,
  text: TEXT,
  upcoming: null,
};
const V2 = { version: '2', effectiveAt: '2027-01-15T00:00:00.000Z', material: true, text: TEXT };
const V3 = { version: '3', effectiveAt: '2027-03-01T00:00:00.000Z', material: true, text: TEXT };
/** Version 1 in force with version 2 announced, as after the first notice. */
const V1_WITH_V2: Policy = { ...V1, upcoming: V2 };

function notice(id: string, version: string, effectiveAt: string): Notice {
  return {
    id,
    kind: 'policy_update',
    policyVersion: version,
    effectiveAt,
    createdAt: '2026-12-01T09:00:00.000Z',
    readAt: null,
  };
}
const N2 = notice('n2', '2', V2.effectiveAt);
const N3 = notice('n3', '3', V3.effectiveAt);

const ACCOUNT: Account = {
  id: 'acc-1',
  email: 'parent@example.com',
  name: 'Pat',
  locale: 'en',
  restricted: false,
  marketingOptIn: false,
  consent: { version: '1', at: '2026-11-02T10:00:00.000Z', verified: true },
  balanceSeconds: 0,
  availableSeconds: 0,
  deletion: null,
  notices: [],
};

/** The server's account and policy endpoints, answering with what they hold when asked. */
class FakeServer {
  account: Account = ACCOUNT;
  policy: Policy = V1;
  requests: string[] = [];
  /** Answers on this path wait for the test to release them, in the order they were asked. */
  holdPath: string | null = null;
  held: Array<{ release: () => void }> = [];

  fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    this.requests.push(`${method} ${path}`);
    const body =
      method === 'GET' && path === '/api/me'
        ? this.account
        : method === 'GET' && path === '/api/policy'
          ? this.policy
          : null;
    if (this.holdPath === path) await new Promise<void>((release) => this.held.push({ release }));
    if (body) return json(body);
    const read = /^\/api\/me\/notices\/([^/]+)\/read$/.exec(path);
    if (method === 'POST' && read) {
      const id = decodeURIComponent(read[1]!);
      const found = (this.account.notices ?? []).find((n) => n.id === id);
      if (found) {
        const marked = { ...found, readAt: '2026-12-02T08:00:00.000Z' };
        this.account = {
          ...this.account,
          notices: (this.account.notices ?? []).map((n) => (n.id === id ? marked : n)),
        };
        return json(marked);
      }
    }
    return new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }), { status: 404 });
  };
}

const passwordInput = (root: ParentNode) => root.querySelector<HTMLInputElement>('form input[type="password"]')!;
const noticeLine = (root: ParentNode, id: string) =>
  root.querySelector<HTMLElement>(`.notice-line[data-notice="${id}"]`);
const upcomingLine = (root: ParentNode) => root.querySelector<HTMLElement>('.notice .upcoming')!;
const policyVersion = (root: ParentNode) => root.querySelector<HTMLElement>('.policy .policy-version')!;
const consentGiven = (root: ParentNode) => root.querySelector<HTMLElement>('.policy .consent-given')!;
const upcomingText = (v: { version: string; effectiveAt: string }) =>
  t('privacy.upcoming', { version: v.version, date: formatDate(v.effectiveAt) });
const noticeText = (n: Notice) => t('privacy.noticeWithDate', { date: formatDate(n.effectiveAt!) });
/** Found by what the parent reads, so the lookup works on any markup the view may have had. */
const buttonLabelled = (root: ParentNode, label: string) =>
  [...root.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.textContent === label)!;

describe('the privacy view follows policy notices without losing the parent’s place', () => {
  const ui = viewTestFrame();
  let server: FakeServer;
  beforeEach(() => {
    server = new FakeServer();
  });

  function context(): PanelContext {
    // What the panel holds when the view opens: the account as last loaded.
    return panelContext({
      view: 'privacy',
      fetch: server.fetch,
      raw: ui.raw,
      account: server.account,
      policy: server.policy,
      refreshAccount: async () => server.account,
    });
  }

  async function shownView(): Promise<HTMLElement> {
    const root = await privacyView(context(), ui.scope.signal);
    ui.doc.body.append(root);
    return root;
  }

  /** The server publishes a policy change: the notice is on the account and the socket says so. */
  function announce(n: Notice, policy: Policy): void {
    server.account = { ...server.account, notices: [n, ...(server.account.notices ?? [])] };
    server.policy = policy;
    ui.raw.fire('notice', n);
  }

  it('keeps keyboard focus and the half-typed password in the delete form, and shows the new notice and the announced policy', async () => {
    const root = await shownView();
    expect(root.textContent).not.toContain(upcomingText(V2));
    const password = passwordInput(root);
    password.focus();
    password.value = 'half-typ';
    expect(ui.doc.document.activeElement).toBe(password);

    announce(N2, V1_WITH_V2);

    await vi.waitFor(() => expect(root.textContent).toContain(noticeText(N2)));
    expect(noticeLine(root, 'n2')!.querySelector('.notice-text')?.textContent).toBe(noticeText(N2));
    expect(upcomingLine(root).hidden).toBe(false);
    expect(upcomingLine(root).textContent).toBe(upcomingText(V2));
    expect(root.querySelector<HTMLElement>('.notice')!.hidden).toBe(false);
    expect(ui.doc.document.activeElement).toBe(password);
    expect(passwordInput(root)).toBe(password);
    expect(password.value).toBe('half-typ');
  });

  it('keeps focus on the "mark as read" button of a notice already shown while a newer notice comes in', async () => {
    server.account = { ...ACCOUNT, notices: [N2] };
    server.policy = V1_WITH_V2;
    const root = await shownView();
    const markRead = buttonLabelled(root, t('privacy.noticeRead'));
    const firstLine = markRead.parentElement!;
    markRead.focus();

    announce(N3, { ...V1, upcoming: V3 });

    await vi.waitFor(() => expect(root.textContent).toContain(noticeText(N3)));
    expect(upcomingLine(root).textContent).toBe(upcomingText(V3));
    expect(noticeLine(root, 'n2')).toBe(firstLine);
    expect(ui.doc.document.activeElement).toBe(markRead);
    expect([...root.querySelectorAll<HTMLElement>('.notice-line')].map((l) => l.dataset.notice)).toEqual(['n3', 'n2']);
  });

  it('shows the policy now in force and the renewed consent in the policy card, keeping its button and the checkbox the parent is on', async () => {
    const root = await shownView();
    const v2InForce = t('consent.version', { version: '2', date: formatDate(V2.effectiveAt) });
    expect(root.textContent).toContain(t('consent.version', { version: '1', date: formatDate(V1.effectiveAt) }));
    const readOnline = buttonLabelled(root, t('consent.readOnline'));
    const restrict = root.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    restrict.focus();

    server.account = { ...server.account, consent: { version: '2', at: '2027-01-16T08:00:00.000Z', verified: true } };
    announce(N3, { ...V2, upcoming: V3 });

    await vi.waitFor(() => expect(root.textContent).toContain(v2InForce));
    expect(policyVersion(root).textContent).toBe(v2InForce);
    expect(consentGiven(root).textContent).toBe(
      t('privacy.consentGiven', { date: formatDate('2027-01-16T08:00:00.000Z') }),
    );
    expect(buttonLabelled(root, t('consent.readOnline'))).toBe(readOnline);
    expect(ui.doc.document.activeElement).toBe(restrict);
  });

  it('two quick notices end on the newer state even when the older answer arrives last', async () => {
    const root = await shownView();
    server.holdPath = '/api/me';
    announce(N2, V1_WITH_V2);
    announce(N3, { ...V1, upcoming: V3 });
    await vi.waitFor(() => expect(server.held).toHaveLength(2));
    const [older, newer] = server.held;
    newer!.release();
    await vi.waitFor(() => expect(noticeLine(root, 'n3')).not.toBeNull());
    expect(upcomingLine(root).textContent).toBe(upcomingText(V3));
    older!.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(upcomingLine(root).textContent).toBe(upcomingText(V3));
    expect(noticeLine(root, 'n3')).not.toBeNull();
  });

  it('a notice marked read stays gone when a refresh asked before the mark answers after it', async () => {
    server.account = { ...ACCOUNT, notices: [N2] };
    server.policy = V1_WITH_V2;
    const root = await shownView();
    server.holdPath = '/api/me';
    announce(N3, { ...V1, upcoming: V3 });
    await vi.waitFor(() => expect(server.held).toHaveLength(1));
    // The answer held above was taken with n2 still unread.
    server.holdPath = null;
    noticeLine(root, 'n2')!.querySelector<HTMLButtonElement>('button.notice-read')!.click();
    await vi.waitFor(() => expect(noticeLine(root, 'n2')).toBeNull());
    server.held[0]!.release();
    await vi.waitFor(() => expect(noticeLine(root, 'n3')).not.toBeNull());
    expect(noticeLine(root, 'n2')).toBeNull();
  });

  it('a notice that lands while the view is still loading is shown once it is built', async () => {
    server.holdPath = '/api/policy';
    const pending = privacyView(context(), ui.scope.signal);
    await vi.waitFor(() => expect(server.held).toHaveLength(1));
    announce(N2, V1_WITH_V2);
    server.holdPath = null;
    server.held[0]!.release();
    const root = await pending;
    ui.doc.body.append(root);
    await vi.waitFor(() => expect(noticeLine(root, 'n2')).not.toBeNull());
    expect(upcomingLine(root).textContent).toBe(upcomingText(V2));
  });

  it('stops following notices once the panel shows another view', async () => {
    const root = await shownView();
    announce(N2, V1_WITH_V2);
    await vi.waitFor(() => expect(noticeLine(root, 'n2')).not.toBeNull());
    const requests = server.requests.length;

    ui.scope.abort();
    announce(N3, { ...V1, upcoming: V3 });
    await new Promise((r) => setTimeout(r, 20));

    expect(server.requests.length).toBe(requests);
    expect(ui.raw.handlers.get('notice')?.size ?? 0).toBe(0);
    expect(noticeLine(root, 'n3')).toBeNull();
    expect(upcomingLine(root).textContent).toBe(upcomingText(V2));
  });

  it('drops an answer that lands after the panel showed another view', async () => {
    const root = await shownView();
    announce(N2, V1_WITH_V2);
    await vi.waitFor(() => expect(noticeLine(root, 'n2')).not.toBeNull());
    server.holdPath = '/api/me';
    announce(N3, { ...V1, upcoming: V3 });
    await vi.waitFor(() => expect(server.held).toHaveLength(1));

    ui.scope.abort();
    server.held[0]!.release();
    await new Promise((r) => setTimeout(r, 20));

    expect(noticeLine(root, 'n3')).toBeNull();
    expect(upcomingLine(root).textContent).toBe(upcomingText(V2));
  });
});

describe('closing the account with a wrong password', () => {
  const ui = viewTestFrame();

  it('says at the password field that the password is wrong, not "email or password", and keeps the parent signed in', async () => {
    const server = new FakeServer();
    const base = server.fetch;
    const deletes: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      if (new URL(url).pathname === '/api/me' && init?.method === 'DELETE') {
        deletes.push(String(init.body));
        return new Response(
          JSON.stringify({
            error: { code: 'wrong_password', message: 'The password is wrong', fields: { password: 'Wrong password' } },
          }),
          { status: 403, headers: { 'content-type': 'application/json' } },
        );
      }
      return base(url, init);
    };
    // linkedom has no modal dialogs: showModal shows nothing, close() fires 'close' as a browser does.
    const dialogProto = Object.getPrototypeOf(document.createElement('dialog')) as HTMLDialogElement;
    dialogProto.showModal = function showModal() {};
    dialogProto.close = function close(this: HTMLDialogElement) {
      const ev = document.createEvent('Event');
      ev.initEvent('close', false, false);
      this.dispatchEvent(ev);
    };
    const ctx = panelContext({
      view: 'privacy',
      fetch,
      raw: ui.raw,
      account: ACCOUNT,
      policy: V1,
      refreshAccount: async () => ACCOUNT,
    });
    const root = await privacyView(ctx, ui.scope.signal);
    ui.doc.body.append(root);
    const input = passwordInput(root);
    input.value = 'not my password';
    const submit = document.createEvent('Event');
    submit.initEvent('submit', true, true);
    input.closest('form')!.dispatchEvent(submit);
    const dialog = await vi.waitFor(() => document.querySelector<HTMLDialogElement>('dialog')!);
    dialog.querySelector<HTMLButtonElement>('button[value="confirm"]')!.click();

    const error = () => input.closest('.field')!.querySelector<HTMLElement>('.field-error')!;
    await vi.waitFor(() => expect(error().hidden).toBe(false));
    expect(deletes).toEqual([JSON.stringify({ password: 'not my password' })]);
    expect(error().textContent).toBe(t('errors.wrong_password'));
    expect(t('errors.wrong_password')).not.toBe(t('errors.invalid_credentials'));
    expect(root.textContent).not.toContain(t('errors.invalid_credentials'));
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(input);
  });
});
