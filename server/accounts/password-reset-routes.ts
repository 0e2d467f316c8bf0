import { Router } from 'express';
import { passwordResetConfirmBodySchema, passwordResetRequestBodySchema } from '../../shared/schemas/privacy.js';
import type { Locale } from '../../shared/locales.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { escapeHtml, pickLocale } from '../notices/policy-page.js';
import { clientInfo } from './auth.js';
import type { PasswordResetService } from './password-reset.js';

/** POST /api/auth/password-reset/request and /confirm (public; mounted under /api/auth). */
export function passwordResetRoutes(resets: PasswordResetService, delivery: () => 'email' | 'outbox'): Router {
  const r = Router();
  r.post(
    '/password-reset/request',
    handler(async (req, res) => {
      const body = parse(passwordResetRequestBodySchema, req.body);
      await resets.admit(clientInfo(req).ip);
      // The same answer for every email, in the same time: the email is looked at only once
      // the answer has left, so neither its body nor its timing says whether an account exists.
      res.once('close', () => resets.sendLinkLater(body.email));
      // `delivery` is the server's, not the account's: without SMTP_URL no email leaves, and
      // the reset screen must not promise one.
      res.status(202).json({ ok: true, delivery: delivery() });
    }),
  );
  r.post(
    '/password-reset/confirm',
    handler(async (req, res) => {
      const body = parse(passwordResetConfirmBodySchema, req.body);
      await resets.confirm(body.token, body.newPassword, clientInfo(req).ip);
      res.status(200).json({ ok: true });
    }),
  );
  return r;
}

const PAGE: Record<
  Locale,
  {
    title: string;
    password: string;
    repeat: string;
    submit: string;
    done: string;
    mismatch: string;
    invalid: string;
    noToken: string;
    failed: string;
  }
> = {
  en: {
    title: 'Choose a new Call Santa password',
    password: 'New password (at least 8 characters)',
    repeat: 'Repeat the new password',
    submit: 'Save the new password',
    done: 'Your password is changed. You have been signed out everywhere; sign in again in the side panel.',
    mismatch: 'The two passwords differ.',
    invalid: 'This link is invalid, used or expired. Ask for a new one in the side panel.',
    noToken: 'This page needs the link from the email. Open the link again.',
    failed: 'Something went wrong. Try again.',
  },
  da: {
    title: 'Vælg en ny adgangskode til Call Santa',
    password: 'Ny adgangskode (mindst 8 tegn)',
    repeat: 'Gentag den nye adgangskode',
    submit: 'Gem den nye adgangskode',
    done: 'Din adgangskode er skiftet. Du er logget ud alle steder; log ind igen i sidepanelet.',
    mismatch: 'De to adgangskoder er forskellige.',
    invalid: 'Linket er ugyldigt, brugt eller udløbet. Bed om et nyt i sidepanelet.',
    noToken: 'Siden skal åbnes fra linket i e-mailen. Åbn linket igen.',
    failed: 'Noget gik galt. Prøv igen.',
  },
  sv: {
    title: 'Välj ett nytt lösenord för Call Santa',
    password: 'Nytt lösenord (minst 8 tecken)',
    repeat: 'Upprepa det nya lösenordet',
    submit: 'Spara det nya lösenordet',
    done: 'Ditt lösenord är bytt. Du har loggats ut överallt; logga in igen i sidopanelen.',
    mismatch: 'Lösenorden är olika.',
    invalid: 'Länken är ogiltig, använd eller har gått ut. Be om en ny i sidopanelen.',
    noToken: 'Sidan måste öppnas från länken i mejlet. Öppna länken igen.',
    failed: 'Något gick fel. Försök igen.',
  },
};

/**
 * The page the emailed link opens. The token travels in the URL fragment, which browsers
 * never send to a server, so it stays out of access logs and Referer headers; the small
 * script (served from this origin, as the CSP requires) posts it to the confirm endpoint.
 */
const SCRIPT = `(() => {
  const form = document.getElementById('reset');
  const status = document.getElementById('status');
  const say = (key) => { status.textContent = form.dataset[key]; };
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', location.pathname + location.search);
  if (!token) { say('noToken'); form.hidden = true; return; }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const a = form.elements.namedItem('password').value;
    const b = form.elements.namedItem('repeat').value;
    if (a !== b) return say('mismatch');
    try {
      const res = await fetch('/api/auth/password-reset/confirm', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, newPassword: a }) });
      if (res.ok) { form.hidden = true; return say('done'); }
      const body = await res.json().catch(() => null);
      say(body && body.error && body.error.code === 'invalid_token' ? 'invalid' : 'failed');
    } catch { say('failed'); }
  });
})();
`;

export function passwordResetPageRoutes(): Router {
  const r = Router();
  r.get('/reset-password.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/javascript').send(SCRIPT);
  });
  r.get('/reset-password', (req, res) => {
    const locale = pickLocale(req);
    const t = PAGE[locale];
    const data = (['done', 'mismatch', 'invalid', 'noToken', 'failed'] as const)
      .map((k) => `data-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${escapeHtml(t[k])}"`)
      .join(' ');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(`<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(t.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;font:inherit}button{margin-top:1rem;padding:.6rem 1rem;font:inherit}</style>
</head>
<body>
<h1>${escapeHtml(t.title)}</h1>
<form id="reset" ${data}>
<label for="password">${escapeHtml(t.password)}</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required>
<label for="repeat">${escapeHtml(t.repeat)}</label><input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength="8" maxlength="128" required>
<button type="submit">${escapeHtml(t.submit)}</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
<script src="/reset-password.js"></script>
</body>
</html>
`);
  });
  return r;
}
