import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import type { CallRecord, Credits, Profile } from '../../../../shared/index.js';
import type { FetchLike } from '../../../lib/api.js';
import { formatMinutes } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import type { FakeRawSocket } from '../../../lib/testing/fakes.js';
import type { PanelContext } from '../context.js';
import { panelContext as basePanelContext, viewTestFrame } from '../testing.js';
import { creditsView } from './credits.js';

const PACKS: Credits['packs'] = [
  { id: 'pack-10', seconds: 600, price: { amount: 500, currency: 'eur' } },
  { id: 'pack-30', seconds: 1800, price: { amount: 1200, currency: 'eur' } },
  { id: 'pack-60', seconds: 3600, price: { amount: 2000, currency: 'eur' } },
];
const EMPTY: Credits = { balanceSeconds: 0, availableSeconds: 0, packs: PACKS, history: [], simulatedPayments: true };
const BOUGHT: Credits = {
  ...EMPTY,
  balanceSeconds: 1800,
  availableSeconds: 1800,
  history: [{ id: 'l1', kind: 'purchase', seconds: 1800, ref: 'cs_1', at: '2026-12-01T10:05:00.000Z' }],
};

/** The server's credits and calls endpoints, answering with what `credits` holds at the time. */
class FakeServer {
  credits: Credits = EMPTY;
  calls: CallRecord[] = [];
  creditRequests = 0;
  /** When set, the next credits answer waits for the test to release it. */
  hold: Array<{ release: () => void }> | null = null;

  fetch: FetchLike = async (url) => {
    const path = new URL(url).pathname;
    if (path === '/api/credits') {
      this.creditRequests += 1;
      const body = this.credits;
      if (this.hold) {
        const hold = this.hold;
        await new Promise<void>((release) => hold.push({ release }));
      }
      return json(body);
    }
    if (path === '/api/calls') return json({ calls: this.calls });
    if (path === '/api/credits/checkout') return json({ url: 'http://127.0.0.1:9/dev/checkout/cs_1?lang=en&key=k' });
    return new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }), { status: 404 });
  };
}

function panelContext(server: FakeServer, raw: FakeRawSocket, profiles: Profile[] = []): PanelContext {
  return basePanelContext({ view: 'credits', fetch: server.fetch, raw, profiles: async () => profiles });
}

const packButton = (root: ParentNode, id: string) =>
  root.querySelector<HTMLButtonElement>(`button.buy-pack[data-pack="${id}"]`)!;
const balanceOf = (root: ParentNode) => root.querySelector<HTMLElement>('.balance-card .big-number')!;

describe('the credits view follows live credit updates without losing the parent’s place', () => {
  const ui = viewTestFrame();
  let server: FakeServer;
  beforeEach(() => {
    server = new FakeServer();
  });

  async function shownView(): Promise<HTMLElement> {
    const root = await creditsView(panelContext(server, ui.raw), ui.scope.signal);
    ui.doc.body.append(root);
    return root;
  }

  it('keeps keyboard focus on the focused pack button and shows the new balance and history', async () => {
    const root = await shownView();
    expect(balanceOf(root).dataset.available).toBe('0');
    const focusedPack = packButton(root, 'pack-30');
    focusedPack.focus();
    expect(ui.doc.document.activeElement).toBe(focusedPack);

    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });

    await vi.waitFor(() => expect(balanceOf(root).dataset.available).toBe('1800'));
    expect(balanceOf(root).textContent).toBe(formatMinutes(1800));
    expect(root.querySelector('.history li.history-purchase .history-kind')?.textContent).toBe(
      t('credits.kind.purchase'),
    );
    expect(ui.doc.document.activeElement).toBe(focusedPack);
    expect(packButton(root, 'pack-30')).toBe(focusedPack);
  });

  it('the focus rule the test relies on can fail: a button taken out of the document loses focus', async () => {
    const root = await shownView();
    const focusedPack = packButton(root, 'pack-30');
    focusedPack.focus();
    root.replaceWith(await creditsView(panelContext(server, ui.raw), ui.scope.signal));
    expect(ui.doc.document.activeElement).toBe(ui.doc.body);
  });

  it('keeps the checkout message and the pack list while the balance changes', async () => {
    const root = await shownView();
    const packsBefore = root.querySelector('ul.packs');
    const message = root.querySelector<HTMLElement>('.message')!;
    message.textContent = t('credits.checkoutOpened');
    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    await vi.waitFor(() => expect(balanceOf(root).dataset.available).toBe('1800'));
    expect(root.querySelector('ul.packs')).toBe(packsBefore);
    expect(root.querySelector('.message')?.textContent).toBe(t('credits.checkoutOpened'));
  });

  it('two quick updates end on the newer balance even when the older answer arrives last', async () => {
    const root = await shownView();
    server.hold = [];
    server.credits = { ...EMPTY, balanceSeconds: 600, availableSeconds: 600 };
    ui.raw.fire('credits:updated', { balanceSeconds: 600, availableSeconds: 600 });
    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    await vi.waitFor(() => expect(server.hold).toHaveLength(2));
    const [older, newer] = server.hold;
    newer!.release();
    await vi.waitFor(() => expect(balanceOf(root).dataset.available).toBe('1800'));
    older!.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(balanceOf(root).dataset.available).toBe('1800');
  });

  it('an update that lands while the view is still loading is shown once it is built', async () => {
    server.hold = [];
    const pending = creditsView(panelContext(server, ui.raw), ui.scope.signal);
    await vi.waitFor(() => expect(server.hold).toHaveLength(1));
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    server.credits = BOUGHT;
    server.hold[0]!.release();
    server.hold = null;
    const root = await pending;
    ui.doc.body.append(root);
    expect(balanceOf(root).dataset.available).toBe('0');
    await vi.waitFor(() => expect(balanceOf(root).dataset.available).toBe('1800'));
  });

  it('stops following updates once the panel shows another view', async () => {
    const root = await shownView();
    const requests = server.creditRequests;
    ui.scope.abort();
    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    await new Promise((r) => setTimeout(r, 20));
    expect(server.creditRequests).toBe(requests);
    expect(ui.raw.handlers.get('credits:updated')?.size ?? 0).toBe(0);
    expect(balanceOf(root).dataset.available).toBe('0');
  });
});

describe('the checkout notice says what became of the payment', () => {
  const ui = viewTestFrame();
  let server: FakeServer;
  beforeEach(() => {
    fakeBrowser.reset();
    server = new FakeServer();
  });
  const messageOf = (root: ParentNode) => root.querySelector<HTMLElement>('.message')!;
  // The browser's tabs.onRemoved as it fires when the parent closes a tab (the fake's own
  // tabs.remove looks the tab's window up by the tab's id, and fails).
  const closeTab = (tabId: number) =>
    fakeBrowser.tabs.onRemoved.trigger(tabId, { isWindowClosing: false, windowId: 1 });

  async function boughtFrom(): Promise<{ root: HTMLElement; tabId: number }> {
    const root = await creditsView(panelContext(server, ui.raw), ui.scope.signal);
    ui.doc.body.append(root);
    packButton(root, 'pack-30').click();
    await vi.waitFor(() => expect(messageOf(root).textContent).toBe(t('credits.checkoutOpened')));
    const tab = (await fakeBrowser.tabs.query({})).find((t) => t.url?.includes('/dev/checkout/'));
    expect(tab?.id).toBeTypeOf('number');
    return { root, tabId: tab!.id! };
  }

  it('opens the checkout tab with a notice that does not repeat the hint below it', async () => {
    const { root } = await boughtFrom();
    const hint = root.querySelector<HTMLElement>('p.hint')!.textContent!;
    expect(hint).toBe(t('credits.buyHint'));
    // No sentence of the notice is one the hint already says.
    for (const sentence of messageOf(root).textContent!.split(/(?<=\.)\s+/))
      expect(hint).not.toContain(sentence.trim());
  });

  it('once the payment is through, the notice says so and what was added, instead of "finish paying"', async () => {
    const { root } = await boughtFrom();
    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    await vi.waitFor(() =>
      expect(messageOf(root).textContent).toBe(t('credits.checkoutPaid', { minutes: formatMinutes(1800) })),
    );
    expect(messageOf(root).className).toContain('message-ok');
  });

  it('a change that is not a new payment (a call ending) keeps the notice', async () => {
    const { root } = await boughtFrom();
    server.credits = {
      ...EMPTY,
      history: [{ id: 'l9', kind: 'grant', seconds: 60, ref: 'g', at: '2026-12-01T10:06:00.000Z' }],
    };
    ui.raw.fire('credits:updated', { balanceSeconds: 60, availableSeconds: 60 });
    await vi.waitFor(() => expect(root.querySelector('.history li.history-grant')).not.toBeNull());
    expect(messageOf(root).textContent).toBe(t('credits.checkoutOpened'));
  });

  it('the payment tab closed (cancelled, or given up) without a payment: the notice says nothing was added; a late payment still replaces it', async () => {
    const { root, tabId } = await boughtFrom();
    await closeTab(tabId);
    expect(messageOf(root).textContent).toBe(t('credits.checkoutClosed'));
    server.credits = BOUGHT;
    ui.raw.fire('credits:updated', { balanceSeconds: 1800, availableSeconds: 1800 });
    await vi.waitFor(() =>
      expect(messageOf(root).textContent).toBe(t('credits.checkoutPaid', { minutes: formatMinutes(1800) })),
    );
  });

  it('another tab closing says nothing about the checkout', async () => {
    const { root, tabId } = await boughtFrom();
    const other = await fakeBrowser.tabs.create({ url: 'https://example.test/' });
    await closeTab(other.id!);
    expect(messageOf(root).textContent).toBe(t('credits.checkoutOpened'));
    // The view is left: its tab watch ends with it.
    ui.scope.abort();
    await closeTab(tabId);
    expect(messageOf(root).textContent).toBe(t('credits.checkoutOpened'));
  });
});

describe('the history says which child a call was for', () => {
  const ui = viewTestFrame();

  it("names the child of each call's time, and a child deleted since as a deleted child", async () => {
    const server = new FakeServer();
    server.credits = {
      ...EMPTY,
      history: [
        { id: 'l3', kind: 'capture', seconds: 120, ref: 'call-2', at: '2026-12-01T11:00:00.000Z' },
        { id: 'l2', kind: 'capture', seconds: 60, ref: 'call-1', at: '2026-12-01T10:30:00.000Z' },
        { id: 'l1', kind: 'purchase', seconds: 1800, ref: 'cs_1', at: '2026-12-01T10:05:00.000Z' },
      ],
    };
    const call = (id: string, profileId: string | null): CallRecord => ({
      id,
      profileId,
      startedAt: '2026-12-01T10:29:00.000Z',
      endedAt: '2026-12-01T10:30:00.000Z',
      seconds: 60,
      reason: 'hangup',
    });
    server.calls = [call('call-2', null), call('call-1', 'p1')];
    const ada = { id: 'p1', name: 'Ada' } as Profile;
    const root = await creditsView(panelContext(server, ui.raw, [ada]), ui.scope.signal);
    const lines = [...root.querySelectorAll('.history li .history-kind')].map((el) => el.textContent);
    expect(lines).toEqual([
      `${t('credits.kind.capture')} · ${t('usage.removedChild')}`,
      `${t('credits.kind.capture')} · Ada`,
      t('credits.kind.purchase'),
    ]);
  });
});
