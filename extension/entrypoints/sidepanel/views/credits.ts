import type { CallRecord, Credits, LedgerEntryView, Profile } from '../../../../shared/index.js';
import { h } from '../../../components/dom.js';
import { usageChart } from '../../../components/usage-chart.js';
import { busy, button, messageArea } from '../../../components/ui.js';
import { onTabClosed, openTab } from '../../../lib/browser-ui.js';
import { formatDateTime, formatDuration, formatMinutes, formatPrice } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import { usageByChild } from '../../../lib/usage.js';
import type { PanelContext } from '../context.js';
import { followUpdates, swap } from '../live-updates.js';

interface Shown {
  credits: Credits;
  calls: CallRecord[] | null;
  profiles: Profile[];
}

async function load(ctx: PanelContext): Promise<Shown> {
  const [credits, calls, profiles] = await Promise.all([
    ctx.api.credits(),
    ctx.api.calls().catch((): CallRecord[] | null => null),
    ctx.profiles().catch(() => []),
  ]);
  return { credits, calls, profiles };
}

/**
 * Credits: call time left, packs to buy (checkout in a new tab), history, and minutes per child.
 *
 * A `credits:updated` event while the view is shown swaps the balance card, the usage chart and
 * the history in place. The pack buttons and the message line stay the same elements, so a
 * parent tabbing through the packs keeps keyboard focus (and a "checkout opened" message
 * stays). The packs themselves are server configuration and are rebuilt on the next visit.
 * `signal` is aborted when the panel shows another view; it ends the subscription
 * (followUpdates: newest answer wins, an update during the first load is caught up).
 */
export async function creditsView(ctx: PanelContext, signal: AbortSignal): Promise<HTMLElement> {
  const live = followUpdates(ctx.socket, 'credits:updated', signal, () => load(ctx));
  let shown: Shown;
  try {
    shown = await load(ctx);
  } catch (err) {
    live.stop();
    throw err;
  }
  const message = messageArea();
  // A checkout opened from here: its notice says what is known, and is replaced once the
  // outcome is (the payment's time arrives, or the payment tab is closed without it).
  let checkout: { known: ReadonlySet<string>; stopWatching: () => void } | null = null;
  const endCheckout = () => {
    checkout?.stopWatching();
    checkout = null;
  };
  signal.addEventListener('abort', endCheckout, { once: true });
  const packs = shown.credits.packs.map((pack) => {
    const buy = button(t('credits.buy', { minutes: formatMinutes(pack.seconds), price: formatPrice(pack.price) }), {
      variant: 'primary',
      class: 'buy-pack',
      'data-pack': pack.id,
    });
    buy.addEventListener('click', () => {
      void busy(buy, async () => {
        try {
          const { url } = await ctx.api.checkout(pack.id);
          const tabId = await openTab(url);
          endCheckout();
          const opened = {
            known: purchaseIds(shown.credits),
            stopWatching: () => undefined as void,
          };
          if (tabId !== undefined)
            opened.stopWatching = onTabClosed(tabId, () => {
              // Still watching for the payment: a late one replaces this line in turn.
              if (checkout === opened) message.show(t('credits.checkoutClosed'));
            });
          checkout = opened;
          message.show(t('credits.checkoutOpened'));
        } catch (err) {
          message.show(describeError(err), 'error');
        }
      });
    });
    return h('li', null, buy);
  });
  let card = balanceCard(shown.credits);
  let usage = usageSection(shown);
  let history = historySection(shown);

  const root = h(
    'section',
    { class: 'credits' },
    h('h2', null, t('credits.title')),
    card,
    shown.credits.simulatedPayments ? h('p', { class: 'notice' }, t('credits.simulated')) : null,
    h('h3', null, t('credits.buyTitle')),
    message.root,
    h('ul', { class: 'packs' }, packs),
    h('p', { class: 'hint' }, t('credits.buyHint')),
    h('h3', null, t('usage.title')),
    usage,
    h('h3', null, t('credits.historyTitle')),
    history,
  );
  live.start((next) => {
    shown = next;
    const paid = checkout
      ? next.credits.history.filter((e) => e.kind === 'purchase' && !checkout!.known.has(e.id))
      : [];
    if (paid.length > 0) {
      endCheckout();
      const seconds = paid.reduce((sum, e) => sum + e.seconds, 0);
      message.show(t('credits.checkoutPaid', { minutes: formatMinutes(seconds) }));
    }
    card = swap(card, balanceCard(next.credits));
    usage = swap(usage, usageSection(next));
    history = swap(history, historySection(next));
  });
  return root;
}

function purchaseIds(credits: Credits): ReadonlySet<string> {
  return new Set(credits.history.filter((e) => e.kind === 'purchase').map((e) => e.id));
}

function balanceCard(credits: Credits): HTMLElement {
  const reserved = credits.balanceSeconds - credits.availableSeconds;
  return h(
    'div',
    { class: 'card balance-card' },
    h(
      'p',
      { class: 'big-number', 'data-available': credits.availableSeconds },
      formatMinutes(credits.availableSeconds),
    ),
    h('p', null, t('credits.available')),
    reserved > 0 ? h('p', { class: 'hint' }, t('credits.reserved', { minutes: formatMinutes(reserved) })) : null,
    (credits.owesSeconds ?? 0) > 0
      ? h('p', { class: 'notice' }, t('credits.owes', { minutes: formatMinutes(credits.owesSeconds ?? 0) }))
      : null,
  );
}

function usageSection({ calls, profiles }: Shown): HTMLElement {
  return calls
    ? usageChart(usageByChild(calls, profiles, new Date()))
    : h('p', { class: 'muted' }, t('usage.unavailable'));
}

function historySection({ credits, calls, profiles }: Shown): HTMLElement {
  if (credits.history.length === 0) return h('p', { class: 'muted' }, t('credits.historyEmpty'));
  // A call's time names its child: the call's record says which profile; a child deleted since
  // (the record keeps no profile, or names one that is gone) is said as such, never left blank.
  const callsById = new Map((calls ?? []).map((c) => [c.id, c]));
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  const childOf = (entry: LedgerEntryView): string | null => {
    if (entry.kind !== 'capture') return null;
    const call = callsById.get(entry.ref);
    if (!call) return null;
    return (call.profileId && names.get(call.profileId)) || t('usage.removedChild');
  };
  return h(
    'ul',
    { class: 'history' },
    credits.history.map((entry) => historyItem(entry, childOf(entry))),
  );
}

/** Ledger entries carry a magnitude; the kind says which way it moved the balance. */
const TAKES_TIME: ReadonlySet<LedgerEntryView['kind']> = new Set(['hold', 'capture', 'refund', 'reversal']);

function historyItem(entry: LedgerEntryView, child: string | null): HTMLElement {
  const sign = entry.seconds === 0 ? '' : TAKES_TIME.has(entry.kind) ? '−' : '+';
  return h(
    'li',
    { class: `history-${entry.kind}` },
    h(
      'span',
      { class: 'history-kind' },
      t(`credits.kind.${entry.kind}` as 'credits.kind.purchase'),
      child ? h('span', { class: 'history-child' }, ` · ${child}`) : null,
    ),
    h('span', { class: 'history-amount' }, `${sign}${formatDuration(Math.abs(entry.seconds))}`),
    h('time', { datetime: entry.at, class: 'muted' }, formatDateTime(entry.at)),
  );
}
