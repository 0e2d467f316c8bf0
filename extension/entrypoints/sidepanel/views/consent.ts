import { h } from '../../../components/dom.js';
import { busy, button, checkbox, messageArea } from '../../../components/ui.js';
import { openTab } from '../../../lib/browser-ui.js';
import { formatDate } from '../../../lib/format.js';
import { currentLocale, t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import type { PanelContext } from '../context.js';

export { needsConsent } from '../../../lib/consent.js';

export async function consentView(ctx: PanelContext): Promise<HTMLElement> {
  const policy = ctx.policy ?? (await ctx.api.policy());
  const again = ctx.account?.consent !== null && ctx.account?.consent !== undefined;
  const message = messageArea();
  const agree = checkbox(t('consent.checkbox'));
  const submit = button(t('consent.agree'), { variant: 'primary', type: 'submit' });
  const text = policy.text[currentLocale()] || policy.text.en;
  const form = h('form', null, agree.root, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!agree.input.checked) {
      message.show(t('consent.tickFirst'), 'error');
      agree.input.focus();
      return;
    }
    void busy(submit, async () => {
      try {
        await ctx.api.consent(policy.version);
        await ctx.refreshAccount();
        ctx.notify(t('consent.thanks'));
        ctx.navigate('children');
      } catch (err) {
        message.show(describeError(err), 'error');
      }
    });
  });
  const readFull = button(t('consent.readOnline'), {
    variant: 'link',
    onclick: () => void openTab(`${ctx.api.baseUrl}/policy`),
  });
  return h(
    'section',
    { class: 'consent' },
    h('h2', null, again ? t('consent.againTitle') : t('consent.title')),
    h('p', null, again ? t('consent.againIntro') : t('consent.intro')),
    h(
      'ul',
      { class: 'promises' },
      h('li', null, t('consent.point1')),
      h('li', null, t('consent.point2')),
      h('li', null, t('consent.point3')),
      h('li', null, t('consent.point4')),
    ),
    h('p', { class: 'muted' }, t('consent.version', { version: policy.version, date: formatDate(policy.effectiveAt) })),
    h('div', { class: 'policy-text', tabindex: 0, role: 'region', 'aria-label': t('consent.policyLabel') }, text),
    h('p', null, readFull),
    message.root,
    form,
  );
}
