import { SUPPORT_LIMITS, type SupportRequest } from '../../../../shared/index.js';
import { h, mount } from '../../../components/dom.js';
import { busy, button, field, messageArea } from '../../../components/ui.js';
import { ApiError } from '../../../lib/api.js';
import { formatDateTime } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import type { PanelContext } from '../context.js';

/** Help and feedback: a message to the people who run Call Santa, and the parent's earlier ones. */
export function supportCard(ctx: PanelContext): HTMLElement {
  const message = messageArea();
  const kind = field({
    label: t('support.kind'),
    input: h(
      'select',
      { name: 'kind' },
      h('option', { value: 'support' }, t('support.kindSupport')),
      h('option', { value: 'feedback' }, t('support.kindFeedback')),
    ),
  });
  const subject = field({
    label: t('support.subject'),
    input: h('input', { type: 'text', name: 'subject', maxlength: SUPPORT_LIMITS.subject }),
  });
  const body = field({
    label: t('support.message'),
    input: h('textarea', { name: 'message', rows: 4, maxlength: SUPPORT_LIMITS.message }),
    hint: t('support.hint'),
  });
  const send = button(t('support.send'), { variant: 'primary', type: 'submit' });
  const list = h('div', { class: 'support-list' });
  const form = h(
    'form',
    { novalidate: true },
    kind.root,
    subject.root,
    body.root,
    message.root,
    h('div', { class: 'actions' }, send),
  );

  const showList = (requests: SupportRequest[]) => {
    mount(
      list,
      requests.length === 0
        ? null
        : h(
            'ul',
            { class: 'plain' },
            requests.map((r) =>
              h(
                'li',
                null,
                h('span', null, r.subject),
                h(
                  'span',
                  { class: 'muted' },
                  `${t(r.status === 'open' ? 'support.open' : 'support.closed')} · ${formatDateTime(r.createdAt)}`,
                ),
              ),
            ),
          ),
    );
  };
  void ctx.api.supportRequests().then(showList, () => undefined);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    subject.setError(null);
    body.setError(null);
    void busy(send, async () => {
      try {
        await ctx.api.support({
          kind: kind.input.value === 'feedback' ? 'feedback' : 'support',
          subject: subject.input.value,
          message: body.input.value,
        });
        subject.input.value = '';
        body.input.value = '';
        message.show(t('support.sent'));
        showList(await ctx.api.supportRequests());
      } catch (err) {
        if (err instanceof ApiError && err.fields) {
          if (err.fields.subject) subject.setError(t('support.subjectInvalid'));
          if (err.fields.message) body.setError(t('support.messageInvalid'));
          (err.fields.subject ? subject : body).input.focus();
        } else message.show(describeError(err), 'error');
      }
    });
  });
  return h(
    'div',
    { class: 'card support' },
    h('h3', null, t('support.title')),
    h('p', null, t('support.intro')),
    form,
    list,
  );
}
