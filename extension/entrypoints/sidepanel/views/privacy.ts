import type { Account, Notice, Policy } from '../../../../shared/index.js';
import { h } from '../../../components/dom.js';
import { busy, button, checkbox, confirmDialog, field, messageArea } from '../../../components/ui.js';
import { ApiError } from '../../../lib/api.js';
import { openTab } from '../../../lib/browser-ui.js';
import { formatDate } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { describeError, errorText } from '../../../lib/messages.js';
import type { PanelContext } from '../context.js';
import { followUpdates } from '../live-updates.js';
import { deleteChild } from './children.js';

/** What a `notice` can change here: the account's notices and consent, and the policy with its announced change. */
interface Shown {
  account: Account;
  policy: Policy | null;
}

/**
 * The privacy centre: every right in one place. Export, restrict processing, opt out of
 * news, delete a child, delete the account (closed now, purged within 30 days), and the
 * policy with any announced change.
 *
 * A `notice` event while the view is shown reloads the account and the policy and updates in
 * place only what a notice changes: the notice lines, the announced policy and its date, the
 * policy version and the consent line. Every control stays the same element, so a parent
 * typing their password in the delete form, or tabbing through the page, keeps keyboard focus
 * and what they typed; the checkboxes keep their state (a notice does not change them).
 * `signal` is aborted when the panel shows another view; it ends the subscription
 * (followUpdates: newest answer wins, a notice during the first load is caught up).
 */
export async function privacyView(ctx: PanelContext, signal: AbortSignal): Promise<HTMLElement> {
  const account = ctx.account!;
  // Both must succeed: a refresh that got only one of them would show a mix of old and new.
  const live = followUpdates(ctx.socket, 'notice', signal, async (): Promise<Shown> => {
    const [fresh, policy] = await Promise.all([ctx.api.me(), ctx.api.policy()]);
    return { account: fresh, policy };
  });
  // Neither can fail (each falls back), so the subscription above never outlives a failed build.
  const [policy, profiles] = await Promise.all([
    ctx.api.policy().catch(() => ctx.policy),
    ctx.profiles().catch(() => []),
  ]);

  // Export
  const exportMsg = messageArea();
  const exportBtn = button(t('privacy.export'), { variant: 'primary', class: 'export' });
  exportBtn.addEventListener('click', () => {
    void busy(exportBtn, async () => {
      try {
        const doc = await ctx.api.exportMe();
        const blob = new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' });
        const url = URL.createObjectURL(blob);
        const a = h('a', {
          href: url,
          download: `call-santa-export-${doc.exportedAt.slice(0, 10)}.json`,
          hidden: true,
        });
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
  const password = field({
    label: t('privacy.deletePassword'),
    input: h('input', { type: 'password', autocomplete: 'current-password' }),
  });
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
          // Only the password was asked: say so at the password, not as "email or password".
          if (err instanceof ApiError && err.code === 'wrong_password') {
            password.setError(errorText('wrong_password'));
            password.input.focus();
          } else deleteMsg.show(describeError(err), 'error');
        }
      });
    })();
  });

  // Notices and the announced policy. Lines are keyed by notice id and never moved: a line
  // the parent is on (its "mark as read" button focused) stays put while new ones come in.
  const upcomingLine = h('p', { class: 'upcoming' });
  const noticeBox = h('div', { class: 'notice', role: 'note' }, upcomingLine);
  const noticeLines = new Map<string, HTMLElement>();
  /** Marked read here: a refresh answered before the mark landed must not bring the line back. */
  const readHere = new Set<string>();
  const noticeLine = (n: Notice): HTMLElement => {
    const read = button(t('privacy.noticeRead'), { variant: 'link', class: 'notice-read' });
    const line = h('p', { class: 'notice-line', 'data-notice': n.id }, h('span', { class: 'notice-text' }), ' ', read);
    read.addEventListener('click', () => {
      void ctx.api
        .markNoticeRead(n.id)
        .then(() => {
          readHere.add(n.id);
          return ctx.refreshAccount();
        })
        .then(
          () => {
            line.remove();
            noticeLines.delete(n.id);
            noticeBox.hidden = upcomingLine.hidden && noticeLines.size === 0;
          },
          () => undefined,
        );
    });
    return line;
  };
  const paintNotices = ({ account: a, policy: p }: Shown): void => {
    const upcoming = p?.upcoming ?? null;
    upcomingLine.hidden = !upcoming;
    upcomingLine.textContent = upcoming
      ? t('privacy.upcoming', { version: upcoming.version, date: formatDate(upcoming.effectiveAt) })
      : '';
    const unread = (a.notices ?? []).filter((n) => n.readAt === null && !readHere.has(n.id));
    const ids = new Set(unread.map((n) => n.id));
    for (const [id, line] of noticeLines) {
      if (ids.has(id)) continue;
      line.remove();
      noticeLines.delete(id);
    }
    let after: Element = upcomingLine;
    for (const n of unread) {
      let line = noticeLines.get(n.id);
      if (!line) {
        line = noticeLine(n);
        noticeLines.set(n.id, line);
      }
      // Only a new line is inserted; one already in its place is left alone (moving it would drop focus).
      if (after.nextElementSibling !== line) after.after(line);
      line.querySelector('.notice-text')!.textContent = n.effectiveAt
        ? t('privacy.noticeWithDate', { date: formatDate(n.effectiveAt) })
        : t('privacy.noticeGeneric');
      after = line;
    }
    noticeBox.hidden = !upcoming && unread.length === 0;
  };

  // The policy card: its text lines are updated, its button stays.
  const policyVersion = h('p', { class: 'policy-version' });
  const consentGiven = h('p', { class: 'muted consent-given' });
  const policyCard = h(
    'div',
    { class: 'card policy' },
    h('h3', null, t('privacy.policyTitle')),
    policyVersion,
    consentGiven,
    button(t('consent.readOnline'), { variant: 'link', onclick: () => void openTab(`${ctx.api.baseUrl}/policy`) }),
  );
  const paintPolicy = ({ account: a, policy: p }: Shown): void => {
    policyCard.hidden = !p;
    policyVersion.textContent = p ? t('consent.version', { version: p.version, date: formatDate(p.effectiveAt) }) : '';
    consentGiven.hidden = !a.consent;
    consentGiven.textContent = a.consent ? t('privacy.consentGiven', { date: formatDate(a.consent.at) }) : '';
  };

  const paint = (shown: Shown): void => {
    paintNotices(shown);
    paintPolicy(shown);
  };
  paint({ account, policy });

  const root = h(
    'section',
    { class: 'privacy' },
    h('h2', null, t('privacy.title')),
    h('p', null, t('privacy.intro')),
    noticeBox,
    h(
      'div',
      { class: 'card' },
      h('h3', null, t('privacy.exportTitle')),
      h('p', null, t('privacy.exportExplain')),
      exportMsg.root,
      exportBtn,
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', null, t('privacy.restrictTitle')),
      h('p', null, t('privacy.restrictExplain')),
      restrict.root,
      restrictMsg.root,
    ),
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
    policyCard,
    h(
      'div',
      { class: 'card danger-zone' },
      h('h3', null, t('privacy.deleteTitle')),
      h('p', null, t('privacy.deleteExplain')),
      deleteMsg.root,
      deleteForm,
    ),
  );
  live.start(paint);
  return root;
}
