import { Router, type Request } from 'express';
import { isLocale, LOCALES, type Locale } from '../../shared/locales.js';
import { handler } from '../core/http.js';
import type { ConsentService } from '../consent/service.js';
import type { PolicyRow } from '../store/types.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** ?lang= wins; otherwise the best Accept-Language match by q-value; English by default. */
export function pickLocale(req: Pick<Request, 'query' | 'headers'>): Locale {
  const q = req.query.lang;
  if (typeof q === 'string' && isLocale(q)) return q;
  const header = req.headers['accept-language'];
  if (typeof header !== 'string') return 'en';
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = qParam ? Number(qParam.slice(2)) : 1;
      return { lang: tag.trim().toLowerCase().split('-')[0] ?? '', weight: Number.isFinite(weight) ? weight : 0, i };
    })
    .filter((x) => x.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.i - b.i);
  // Norwegian readers understand Danish best; treat nb/nn/no as da.
  for (const r of ranked) {
    const lang = ['nb', 'nn', 'no'].includes(r.lang) ? 'da' : r.lang;
    if (isLocale(lang)) return lang;
  }
  return 'en';
}

const UI: Record<
  Locale,
  {
    title: string;
    current: string;
    upcoming: string;
    effective: string;
    published: string;
    material: string;
    none: string;
    languages: string;
  }
> = {
  en: {
    title: 'Call Santa privacy policy',
    current: 'The policy in force',
    upcoming: 'Announced change',
    effective: 'Takes effect',
    published: 'Published',
    material:
      'This is a material change: parents are asked to accept it again before the next call once it takes effect.',
    none: 'No change is announced.',
    languages: 'Language',
  },
  da: {
    title: 'Call Santas privatlivspolitik',
    current: 'Den gældende politik',
    upcoming: 'Varslet ændring',
    effective: 'Gælder fra',
    published: 'Offentliggjort',
    material:
      'Det er en væsentlig ændring: forældre bliver bedt om at acceptere den igen før næste opkald, når den træder i kraft.',
    none: 'Ingen ændringer er varslet.',
    languages: 'Sprog',
  },
  sv: {
    title: 'Call Santas integritetspolicy',
    current: 'Gällande policy',
    upcoming: 'Aviserad ändring',
    effective: 'Gäller från',
    published: 'Publicerad',
    material: 'Det är en väsentlig ändring: föräldrar ombeds godkänna den igen före nästa samtal när den börjar gälla.',
    none: 'Inga ändringar är aviserade.',
    languages: 'Språk',
  },
};

const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', da: 'Dansk', sv: 'Svenska' };

function day(epochMs: number, locale: Locale): string {
  return new Date(epochMs).toLocaleDateString({ en: 'en-GB', da: 'da-DK', sv: 'sv-SE' }[locale], {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

function section(p: PolicyRow, locale: Locale, heading: string, upcoming: boolean): string {
  const t = UI[locale];
  const paragraphs = p.text[locale]
    .split(/\n{2,}/)
    .map((para) => `<p>${escapeHtml(para).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  return [
    `<section${upcoming ? ' class="upcoming"' : ''} id="${upcoming ? 'upcoming' : 'current'}">`,
    `<h2>${escapeHtml(heading)}: ${escapeHtml(p.version)}</h2>`,
    `<p class="meta">${escapeHtml(t.effective)}: <time datetime="${new Date(p.effectiveAt).toISOString()}">${escapeHtml(day(p.effectiveAt, locale))}</time> · ${escapeHtml(t.published)}: <time datetime="${new Date(p.publishedAt).toISOString()}">${escapeHtml(day(p.publishedAt, locale))}</time></p>`,
    upcoming && p.material ? `<p class="material">${escapeHtml(t.material)}</p>` : '',
    paragraphs,
    '</section>',
  ].join('\n');
}

/** The public policy page (P18): current and upcoming version, in en/da/sv, every policy text HTML-escaped. */
export function renderPolicyPage(current: PolicyRow, upcoming: PolicyRow | null, locale: Locale): string {
  const t = UI[locale];
  const langs = LOCALES.map((l) =>
    l === locale
      ? `<strong>${LANGUAGE_NAMES[l]}</strong>`
      : `<a href="?lang=${l}" hreflang="${l}" lang="${l}">${LANGUAGE_NAMES[l]}</a>`,
  ).join(' · ');
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.title)}</title>
<style>
body{font:16px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fffdf8}
h1{color:#b3261e}h2{margin-top:2rem}.meta{color:#555;font-size:.9rem}.upcoming{border-left:4px solid #b3261e;padding-left:1rem}
.material{font-weight:600}nav{font-size:.9rem}
</style>
</head>
<body>
<nav aria-label="${escapeHtml(t.languages)}">${langs}</nav>
<h1>${escapeHtml(t.title)}</h1>
${section(current, locale, t.current, false)}
${upcoming ? section(upcoming, locale, t.upcoming, true) : `<p>${escapeHtml(t.none)}</p>`}
</body>
</html>
`;
}

export function policyPageRoutes(consent: ConsentService): Router {
  const r = Router();
  r.get(
    '/policy',
    handler(async (req, res) => {
      const locale = pickLocale(req);
      const { current, upcoming } = await consent.currentAndUpcoming();
      res.setHeader('Content-Language', locale);
      res.setHeader('Vary', 'Accept-Language');
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('html').send(renderPolicyPage(current, upcoming, locale));
    }),
  );
  return r;
}
