import { h } from '../../../components/dom.js';
import { busy, button, field, messageArea } from '../../../components/ui.js';
import { ApiError } from '../../../lib/api.js';
import { currentLocale, t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import { formatDate } from '../../../lib/format.js';
import type { PanelContext } from '../context.js';

type Mode = 'login' | 'signup' | 'reset';

/**
 * What the parent typed so far, in this page's memory only: fixing the server address in
 * Settings restarts the panel, and the half-filled form must still be there afterwards.
 * Cleared once signed in.
 */
const draft: { mode: Mode; name: string; email: string; password: string } = {
  mode: 'login',
  name: '',
  email: '',
  password: '',
};

/** Sign in, sign up and forgotten password. Field errors come from the shared schemas, before anything is sent. */
export function authView(ctx: PanelContext): HTMLElement {
  let mode: Mode = 'login';
  const message = messageArea();
  const email = field({
    label: t('auth.email'),
    input: h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true }),
  });
  const password = field({
    label: t('auth.password'),
    input: h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }),
  });
  const name = field({
    label: t('auth.name'),
    input: h('input', { type: 'text', name: 'name', autocomplete: 'name' }),
    hint: t('auth.nameHint'),
  });
  const heading = h('h2', null);
  const intro = h('p', null);
  const submit = button('', { variant: 'primary', type: 'submit' });
  const toggle = button('', { variant: 'link', class: 'auth-toggle' });
  const forgot = button(t('auth.forgot'), { variant: 'link', class: 'forgot' });
  const passwordHint = h('p', { class: 'hint' }, t('auth.passwordHint'));
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'auth-heading' },
    name.root,
    email.root,
    password.root,
    passwordHint,
    h('div', { class: 'actions' }, submit),
  );
  heading.id = 'auth-heading';
  heading.tabIndex = -1;

  const setMode = (next: typeof mode) => {
    mode = next;
    draft.mode = next;
    heading.textContent = { login: t('auth.signInTitle'), signup: t('auth.signUpTitle'), reset: t('auth.resetTitle') }[
      mode
    ];
    intro.textContent = { login: t('auth.signInIntro'), signup: t('auth.signUpIntro'), reset: t('auth.resetIntro') }[
      mode
    ];
    submit.textContent = { login: t('auth.signIn'), signup: t('auth.createAccount'), reset: t('auth.resetSend') }[mode];
    toggle.textContent = mode === 'login' ? t('auth.toSignUp') : t('auth.toSignIn');
    name.root.hidden = mode !== 'signup';
    password.root.hidden = mode === 'reset';
    passwordHint.hidden = mode !== 'signup';
    forgot.hidden = mode !== 'login';
    password.input.setAttribute('autocomplete', mode === 'login' ? 'current-password' : 'new-password');
    for (const f of [email, password, name]) f.setError(null);
    message.clear();
    closedBox.hidden = true;
  };
  toggle.addEventListener('click', () => {
    setMode(mode === 'login' ? 'signup' : 'login');
    heading.focus();
  });
  forgot.addEventListener('click', () => {
    setMode('reset');
    email.input.focus();
  });

  const fieldErrors = (err: ApiError) => {
    const fields = err.fields ?? {};
    email.setError(fields.email ? t('auth.emailInvalid') : null);
    password.setError(
      fields.password ? (mode === 'signup' ? t('auth.passwordInvalid') : t('auth.passwordRequired')) : null,
    );
    name.setError(fields.name ? t('auth.nameInvalid') : null);
    const first = [email, password, name].find((f) => f.input.getAttribute('aria-invalid') === 'true');
    first?.input.focus();
  };

  // Only the account's own password gets here: what is true about it, and the way back.
  const closedBox = h('div', { class: 'card closed-account', hidden: true });
  const showClosed = (purgeBy: string | null) => {
    const reopen = button(t('auth.reopen'), { variant: 'primary', class: 'reopen' });
    const closedMessage = messageArea();
    reopen.addEventListener('click', () => {
      void busy(reopen, async () => {
        try {
          const res = await ctx.api.reopen({ email: email.input.value, password: password.input.value });
          Object.assign(draft, { mode: 'login', name: '', email: '', password: '' });
          await ctx.signedIn(res.token, res.account);
        } catch (err) {
          closedMessage.show(describeError(err), 'error');
        }
      });
    });
    closedBox.replaceChildren(
      h('h3', null, t('auth.closedTitle')),
      h('p', null, purgeBy ? t('auth.closedExplain', { date: formatDate(purgeBy) }) : t('auth.closedExplainNoDate')),
      closedMessage.root,
      h('div', { class: 'actions' }, reopen),
    );
    closedBox.hidden = false;
    reopen.focus();
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    message.clear();
    closedBox.hidden = true;
    void busy(submit, async () => {
      try {
        if (mode === 'reset') {
          const { delivery } = await ctx.api.requestPasswordReset(email.input.value);
          // Without email on the server, no link is "on its way": say where it is instead.
          message.show(
            delivery === 'email' ? t('auth.resetSent') : t('auth.resetNoMail'),
            delivery === 'email' ? 'ok' : 'error',
          );
          return;
        }
        const res =
          mode === 'login'
            ? await ctx.api.login({ email: email.input.value, password: password.input.value })
            : await ctx.api.signup({
                email: email.input.value,
                password: password.input.value,
                name: name.input.value,
                locale: currentLocale(),
              });
        Object.assign(draft, { mode: 'login', name: '', email: '', password: '' });
        await ctx.signedIn(res.token, res.account);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_request' && err.fields) fieldErrors(err);
        else if (err instanceof ApiError && err.code === 'account_closed' && mode === 'login')
          showClosed(err.fields?.purgeBy ?? null);
        else message.show(describeError(err), 'error');
      }
    });
  });

  for (const [key, f] of [
    ['name', name],
    ['email', email],
    ['password', password],
  ] as const) {
    f.input.value = draft[key];
    f.input.addEventListener('input', () => (draft[key] = f.input.value));
  }
  setMode(draft.mode);
  return h(
    'section',
    { class: 'auth' },
    heading,
    intro,
    message.root,
    closedBox,
    form,
    h('p', null, forgot),
    h('p', null, toggle),
    h('p', { class: 'hint' }, t('auth.serverHint')),
  );
}
