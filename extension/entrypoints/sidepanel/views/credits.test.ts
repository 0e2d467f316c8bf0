import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallRecord, Credits } from '../../../../shared/index.js';
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
    return new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }), { status: 404 });
  };
}

function panelContext(server: FakeServer, raw: FakeRawSocket): PanelContext {
  return basePanelContext({ view: 'credits', fetch: server.fetch, raw });
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
