import { h } from '../../../components/dom.js';
import { busy, button, checkbox, confirmDialog, field, messageArea } from '../../../components/ui.js';
import { openTab } from '../../../lib/browser-ui.js';
import { formatDate } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import type { PanelContext } from '../context.js';
import { deleteChild } from './children.js';

/**
 * The privacy centre: every right in one place. Export, restrict processing, opt out of
 * news, delete a child, delete the account (closed now, purged within 30 days), and the
 * policy with any announced change.
 */
export async function privacyView(ctx: PanelContext): Promise<HTMLElement> {
  const account = ctx.account!;
  const [policy, profiles] = await Promise.all([ctx.api.policy().catch(() => ctx.policy), ctx.profiles().catch(() => [])]);

  // Export
  const exportMsg = messageArea();
  const exportBtn = button(t('privacy.export'), { variant: 'primary', class: 'export' });
  exportBtn.addEventListener('click', () => {
    void busy(exportBtn, async () => {
      try {
        const doc = await ctx.api.exportMe();
        const blob = new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' });
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: `call-santa-export-${doc.exportedAt.slice(0, 10)}.json`, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        exportMsg.show(t('privacy.exported'));
      } catch (err) {
        exportMsg.show(describeError(err), 'error');
      }
    });
  });

  // Restrict processing
  const restrictMsg = messageArea();
  const restrict = checkbox(t('privacy.restrict'), { checked: account.restricted });
  restrict.input.addEventListener('change', () => {
    const wanted = restrict.input.checked;
    restrict.input.disabled = true;
    ctx.api
      .restrict(wanted)
      .then(async () => {
        await ctx.refreshAccount();
        restrictMsg.show(wanted ? t('privacy.restrictedOn') : t('privacy.restrictedOff'));
      })
      .catch((err: unknown) => {
        restrict.input.checked = !wanted;
        restrictMsg.show(describeError(err), 'error');
      })
      .finally(() => (restrict.input.disabled = false));
  });

  // Marketing opt-in (off unless the parent turns it on)
  const marketingMsg = messageArea();
  const marketing = checkbox(t('privacy.marketing'), { checked: account.marketingOptIn });
  marketing.input.addEventListener('change', () => {
    const wanted = marketing.input.checked;
    marketing.input.disabled = true;
    ctx.api
      .patchMe({ marketingOptIn: wanted })
      .then(async () => {
        await ctx.refreshAccount();
        marketingMsg.show(t('privacy.saved'));
      })
      .catch((err: unknown) => {
        marketing.input.checked = !wanted;
        marketingMsg.show(describeError(err), 'error');
      })
      .finally(() => (marketing.input.disabled = false));
  });

  // Delete the account
  const deleteMsg = messageArea();
  const password = field({ label: t('privacy.deletePassword'), input: h('input', { type: 'password', autocomplete: 'current-password' }) });
  const deleteBtn = button(t('privacy.deleteAccount'), { variant: 'danger', type: 'submit' });
  const deleteForm = h('form', { novalidate: true }, password.root, h('div', { class: 'actions' }, deleteBtn));
  deleteForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    password.setError(null);
    if (!password.input.value) {
      password.setError(t('auth.passwordRequired'));
      password.input.focus();
      return;
    }
    void (async () => {
      const ok = await confirmDialog({
        title: t('privacy.deleteConfirmTitle'),
        body: [h('p', null, t('privacy.deleteExplain')), h('p', null, t('privacy.deleteKept'))],
        confirmLabel: t('privacy.deleteConfirm'),
        danger: true,
      });
      if (!ok) return;
      await busy(deleteBtn, async () => {
        try {
          const { purgeBy } = await ctx.api.deleteMe({ password: password.input.value });
          await ctx.signOut(t('privacy.deleted', { date: formatDate(purgeBy) }));
        } catch (err) {
          deleteMsg.show(describeError(err), 'error');
        }
      });
    })();
  });

  const notices = (account.notices ?? []).filter((n) => n.readAt === null);
  return h(
    'section',
    { class: 'privacy' },
    h('h2', null, t('privacy.title')),
    h('p', null, t('privacy.intro')),
    notices.length || policy?.upcoming
      ? h(
          'div',
          { class: 'notice', role: 'note' },
          policy?.upcoming ? h('p', null, t('privacy.upcoming', { version: policy.upcoming.version, date: formatDate(policy.upcoming.effectiveAt) })) : null,
          notices.map((n) => {
            const read = button(t('privacy.noticeRead'), { variant: 'link' });
            const p = h('p', null, n.effectiveAt ? t('privacy.noticeWithDate', { date: formatDate(n.effectiveAt) }) : t('privacy.noticeGeneric'), ' ', read);
            read.addEventListener('click', () => void ctx.api.markNoticeRead(n.id).then(() => ctx.refreshAccount()).then(() => p.remove(), () => undefined));
            return p;
          }),
        )
      : null,
    h(
      'div',
      { class: 'card' },
      h('h3', null, t('privacy.exportTitle')),
      h('p', null, t('privacy.exportExplain')),
      exportMsg.root,
      exportBtn,
    ),
    h('div', { class: 'card' }, h('h3', null, t('privacy.restrictTitle')), h('p', null, t('privacy.restrictExplain')), restrict.root, restrictMsg.root),
    h('div', { class: 'card' }, h('h3', null, t('privacy.marketingTitle')), marketing.root, marketingMsg.root),
    h(
      'div',
      { class: 'card' },
      h('h3', null, t('privacy.childrenTitle')),
      h('p', null, t('privacy.childrenExplain')),
      profiles.length === 0
        ? h('p', { class: 'muted' }, t('children.empty'))
        : h(
            'ul',
            { class: 'plain' },
            profiles.map((p) =>
              h(
                'li',
                null,
                h('span', null, p.name),
                ' ',
                button(t('children.delete'), {
                  'aria-label': t('children.deleteChild', { name: p.name }),
                  onclick: () => void deleteChild(ctx, p).then((gone) => gone && ctx.navigate('privacy')),
                }),
              ),
            ),
          ),
    ),
    policy
      ? h(
          'div',
          { class: 'card' },
          h('h3', null, t('privacy.policyTitle')),
          h('p', null, t('consent.version', { version: policy.version, date: formatDate(policy.effectiveAt) })),
          account.consent ? h('p', { class: 'muted' }, t('privacy.consentGiven', { date: formatDate(account.consent.at) })) : null,
          button(t('consent.readOnline'), { variant: 'link', onclick: () => void openTab(`${ctx.api.baseUrl}/policy`) }),
        )
      : null,
    h(
      'div',
      { class: 'card danger-zone' },
      h('h3', null, t('privacy.deleteTitle')),
      h('p', null, t('privacy.deleteExplain')),
      deleteMsg.root,
      deleteForm,
    ),
  );
}
