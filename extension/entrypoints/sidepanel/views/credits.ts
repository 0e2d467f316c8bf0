import type { CallRecord, LedgerEntryView } from '../../../../shared/index.js';
import { h } from '../../../components/dom.js';
import { usageChart } from '../../../components/usage-chart.js';
import { busy, button, messageArea } from '../../../components/ui.js';
import { openTab } from '../../../lib/browser-ui.js';
import { formatDateTime, formatDuration, formatMinutes, formatPrice } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import { usageByChild } from '../../../lib/usage.js';
import type { PanelContext } from '../context.js';

/** Credits: call time left, packs to buy (checkout in a new tab), history, and minutes per child. */
export async function creditsView(ctx: PanelContext): Promise<HTMLElement> {
  const [credits, calls, profiles] = await Promise.all([
    ctx.api.credits(),
    ctx.api.calls().catch((): CallRecord[] | null => null),
    ctx.profiles().catch(() => []),
  ]);
  const message = messageArea();
  const reserved = credits.balanceSeconds - credits.availableSeconds;
  const packs = credits.packs.map((pack) => {
    const buy = button(t('credits.buy', { minutes: formatMinutes(pack.seconds), price: formatPrice(pack.price) }), {
      variant: 'primary',
      class: 'buy-pack',
      'data-pack': pack.id,
    });
    buy.addEventListener('click', () => {
      void busy(buy, async () => {
        try {
          const { url } = await ctx.api.checkout(pack.id);
          await openTab(url);
          message.show(t('credits.checkoutOpened'));
        } catch (err) {
          message.show(describeError(err), 'error');
        }
      });
    });
    return h('li', null, buy);
  });
  return h(
    'section',
    { class: 'credits' },
    h('h2', null, t('credits.title')),
    h(
      'div',
      { class: 'card balance-card' },
      h('p', { class: 'big-number', 'data-available': credits.availableSeconds }, formatMinutes(credits.availableSeconds)),
      h('p', null, t('credits.available')),
      reserved > 0 ? h('p', { class: 'hint' }, t('credits.reserved', { minutes: formatMinutes(reserved) })) : null,
      (credits.owesSeconds ?? 0) > 0 ? h('p', { class: 'notice' }, t('credits.owes', { minutes: formatMinutes(credits.owesSeconds ?? 0) })) : null,
    ),
    credits.simulatedPayments ? h('p', { class: 'notice' }, t('credits.simulated')) : null,
    h('h3', null, t('credits.buyTitle')),
    message.root,
    h('ul', { class: 'packs' }, packs),
    h('p', { class: 'hint' }, t('credits.buyHint')),
    h('h3', null, t('usage.title')),
    calls ? usageChart(usageByChild(calls, profiles, new Date())) : h('p', { class: 'muted' }, t('usage.unavailable')),
    h('h3', null, t('credits.historyTitle')),
    credits.history.length === 0 ? h('p', { class: 'muted' }, t('credits.historyEmpty')) : h('ul', { class: 'history' }, credits.history.map(historyItem)),
  );
}

/** Ledger entries carry a magnitude; the kind says which way it moved the balance. */
const TAKES_TIME: ReadonlySet<LedgerEntryView['kind']> = new Set(['hold', 'capture', 'refund', 'reversal']);

function historyItem(entry: LedgerEntryView): HTMLElement {
  const sign = entry.seconds === 0 ? '' : TAKES_TIME.has(entry.kind) ? '−' : '+';
  return h(
    'li',
    { class: `history-${entry.kind}` },
    h('span', { class: 'history-kind' }, t(`credits.kind.${entry.kind}` as 'credits.kind.purchase')),
    h('span', { class: 'history-amount' }, `${sign}${formatDuration(Math.abs(entry.seconds))}`),
    h('time', { datetime: entry.at, class: 'muted' }, formatDateTime(entry.at)),
  );
}
