import type { Request, Response } from 'express';
import { isLocale, LOCALES, type Locale } from '../../shared/locales.js';
import type { Price } from '../../shared/schemas/credits.js';

/**
 * The small HTML pages of the payment flow: the dev provider's test checkout and the pages a
 * checkout returns to. No scripts at all (a plain form POST), translated en/da/sv.
 */
const TEXT = {
  en: {
    testTitle: 'Test payment — no money moves',
    testExplain:
      'This server runs without Stripe, so payments are simulated: no card is asked for and nothing is charged.',
    pack: (minutes: number) => `${minutes} minutes of call time`,
    pay: (price: string) => `Pay ${price} (test, no money moves)`,
    cancel: 'Cancel',
    doneTitle: 'Payment done, you can close this tab',
    doneExplain: 'The call time is on your account.',
    returnedTitle: 'Thank you! You can close this tab',
    returnedExplain: 'Your payment is being confirmed; the call time appears in Call Santa in a moment.',
    cancelledTitle: 'Payment cancelled',
    cancelledExplain: 'No money moved. You can close this tab.',
    notFoundTitle: 'This payment link is not valid',
    notFoundExplain: 'Open the checkout again from Call Santa.',
    failedTitle: 'The test payment did not go through',
    failedExplain: 'Nothing was charged. Try again in a moment.',
    crossSiteTitle: 'This payment was not sent from its page',
    crossSiteExplain: 'Open the checkout again from Call Santa and press Pay on the page it opens.',
  },
  da: {
    testTitle: 'Testbetaling — ingen penge flyttes',
    testExplain:
      'Denne server kører uden Stripe, så betalinger er simulerede: der bedes ikke om noget kort, og intet bliver trukket.',
    pack: (minutes: number) => `${minutes} minutters opkaldstid`,
    pay: (price: string) => `Betal ${price} (test, ingen penge flyttes)`,
    cancel: 'Annuller',
    doneTitle: 'Betalingen er gennemført, du kan lukke denne fane',
    doneExplain: 'Opkaldstiden er på din konto.',
    returnedTitle: 'Tak! Du kan lukke denne fane',
    returnedExplain: 'Din betaling bliver bekræftet; opkaldstiden dukker op i Call Santa om et øjeblik.',
    cancelledTitle: 'Betalingen er annulleret',
    cancelledExplain: 'Ingen penge er flyttet. Du kan lukke denne fane.',
    notFoundTitle: 'Dette betalingslink er ikke gyldigt',
    notFoundExplain: 'Åbn betalingen igen fra Call Santa.',
    failedTitle: 'Testbetalingen gik ikke igennem',
    failedExplain: 'Intet er trukket. Prøv igen om lidt.',
    crossSiteTitle: 'Denne betaling blev ikke sendt fra sin egen side',
    crossSiteExplain: 'Åbn betalingen igen fra Call Santa, og tryk på Betal på den side, der åbnes.',
  },
  sv: {
    testTitle: 'Testbetalning — inga pengar flyttas',
    testExplain:
      'Den här servern körs utan Stripe, så betalningar är simulerade: inget kort efterfrågas och ingenting debiteras.',
    pack: (minutes: number) => `${minutes} minuters samtalstid`,
    pay: (price: string) => `Betala ${price} (test, inga pengar flyttas)`,
    cancel: 'Avbryt',
    doneTitle: 'Betalningen är klar, du kan stänga den här fliken',
    doneExplain: 'Samtalstiden finns på ditt konto.',
    returnedTitle: 'Tack! Du kan stänga den här fliken',
    returnedExplain: 'Din betalning bekräftas; samtalstiden dyker upp i Call Santa om en stund.',
    cancelledTitle: 'Betalningen avbröts',
    cancelledExplain: 'Inga pengar har flyttats. Du kan stänga den här fliken.',
    notFoundTitle: 'Den här betalningslänken är inte giltig',
    notFoundExplain: 'Öppna betalningen igen från Call Santa.',
    failedTitle: 'Testbetalningen gick inte igenom',
    failedExplain: 'Ingenting har debiterats. Försök igen om en stund.',
    crossSiteTitle: 'Den här betalningen skickades inte från sin egen sida',
    crossSiteExplain: 'Öppna betalningen igen från Call Santa och tryck på Betala på sidan som öppnas.',
  },
} satisfies Record<Locale, Record<string, unknown>>;

export type PageText = (typeof TEXT)['en'];

/** ?lang= wins; otherwise the best Accept-Language match by q-value; English by default. */
export function pageLocale(req: Request): Locale {
  const lang = req.query.lang;
  if (isLocale(lang)) return lang;
  let best: { locale: Locale; q: number } | null = null;
  for (const part of (req.headers['accept-language'] ?? '').split(',')) {
    const [tag, ...params] = part.trim().toLowerCase().split(';');
    const base = tag?.split('-')[0];
    if (!isLocale(base)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { locale: base, q };
  }
  return best?.locale ?? LOCALES[0];
}

export function textFor(locale: Locale): PageText {
  return TEXT[locale];
}

/** Display only: minor units shown in the currency's own format. The amount stays an integer everywhere else. */
export function formatPrice(price: Price, locale: Locale): string {
  const currency = price.currency.toUpperCase();
  const digits =
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(price.amount / 10 ** digits);
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f;background:#fffdf8}
h1{font-size:1.5rem}.banner{background:#fff3cd;border:1px solid #e0c060;border-radius:.5rem;padding:.75rem 1rem}
button{font-size:1.1rem;padding:.75rem 1.25rem;border-radius:.5rem;border:0;background:#b3261e;color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}a{color:#1a4fa0}`;

/** The page's own CSP: no scripts, nothing loaded from elsewhere, forms only to this origin. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function sendPage(res: Response, status: number, locale: Locale, title: string, body: string): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Vary', 'Accept-Language');
  res.status(status).type('html').send(`<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>`);
}

/** Every page of the dev checkout says it: payments here are simulated, no money moves. */
export function simulatedBanner(t: PageText): string {
  return `<p class="banner" role="note">${escapeHtml(t.testExplain)}</p>\n`;
}

export function devCheckoutBody(
  t: PageText,
  locale: Locale,
  sessionId: string,
  key: string,
  pack: { seconds: number; price: Price },
): string {
  const price = formatPrice(pack.price, locale);
  const action = `/dev/checkout/${encodeURIComponent(sessionId)}/pay?lang=${locale}`;
  return `${simulatedBanner(t)}<p>${escapeHtml(t.pack(Math.trunc(pack.seconds / 60)))}: <strong>${escapeHtml(price)}</strong></p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="key" value="${escapeHtml(key)}">
<button type="submit">${escapeHtml(t.pay(price))}</button>
</form>
<p><a href="/checkout/cancelled?lang=${locale}">${escapeHtml(t.cancel)}</a></p>`;
}

export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}
