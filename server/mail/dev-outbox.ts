import { Router, type Request } from 'express';
import { handler } from '../core/http.js';
import type { OutboxRow } from '../store/types.js';
import type { MailService } from './service.js';

export const DEV_OUTBOX_PATH = '/dev/outbox';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** Links in a mail body become links on the page (escaped first: the body is text, never HTML). */
function linkify(text: string): string {
  return escape(text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * From this computer, to a local name. The address alone is not enough: a page on another
 * site whose name an attacker points at 127.0.0.1 (DNS rebinding) reaches us from loopback,
 * same-origin to itself, but with its own name in Host.
 */
function isLoopback(req: Request): boolean {
  const a = req.socket.remoteAddress ?? '';
  const fromHere = a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return fromHere && LOCAL_HOSTS.has(host);
}

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const STYLE = `body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fffdf8}
article{border:1px solid #c9c9c9;border-radius:.5rem;padding:.5rem 1rem;margin:1rem 0;background:#fff}pre{white-space:pre-wrap;font:inherit}
a{color:#1a4fa0}a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}.note{background:#fff3cd;border:1px solid #e0c060;border-radius:.5rem;padding:.75rem 1rem}`;

/**
 * GET /dev/outbox: the mail this server would have sent, newest first, links and all, so
 * whoever installed it can finish a password reset. It exists only in development without
 * SMTP_URL (app.ts mounts it then) and answers only this computer: the page shows one-time
 * links, which must not reach anyone else. Nothing is logged; the rows are the outbox's.
 * The page is for the person running the server (like its log), so it is in English.
 */
export function devOutboxRoutes(mail: Pick<MailService, 'recentForDevOutbox'>): Router {
  const r = Router();
  r.get(
    DEV_OUTBOX_PATH,
    handler(async (req, res) => {
      if (!isLoopback(req)) {
        res.status(404).json({ error: { code: 'not_found', message: 'Not found' } });
        return;
      }
      const rows = await mail.recentForDevOutbox(50);
      const item = (m: OutboxRow) => `<article>
<h2>${escape(m.subject)}</h2>
<p>To ${escape(m.to)} · ${escape(new Date(m.createdAt).toISOString())} · ${escape(m.template)}</p>
<pre>${linkify(m.body)}</pre>
</article>`;
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.status(200).type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Call Santa: outbox (mail is not being sent)</title><style>${STYLE}</style></head>
<body><main>
<h1>Outbox: mail is not being sent</h1>
<p class="note">This server has no SMTP_URL, so no email leaves it. Here is what it would have sent, newest first. Set SMTP_URL to send mail for real.</p>
${rows.length ? rows.map(item).join('\n') : '<p>No mail yet.</p>'}
</main></body></html>`);
    }),
  );
  return r;
}
