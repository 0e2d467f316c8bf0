import type { Locale } from '../../shared/locales.js';

export interface MailContent {
  subject: string;
  body: string;
}

/**
 * Templates whose body carries a one-time secret (a reset link). Their bodies are never
 * shown to admins or put in an export, and are blanked once sent or no longer usable.
 */
export const SECRET_TEMPLATES: ReadonlySet<string> = new Set(['password_reset']);

export const SCRUBBED_BODY = '[removed: this message carried a one-time link that is no longer stored]';

const date = (epochMs: number, locale: Locale) =>
  new Date(epochMs).toLocaleDateString({ en: 'en-GB', da: 'da-DK', sv: 'sv-SE' }[locale], {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });

/** A policy version was published: essential communication, sent even to opted-out parents (P18). */
export function policyUpdateMail(
  locale: Locale,
  p: { name: string; version: string; effectiveAt: number; material: boolean; policyUrl: string },
): MailContent {
  const when = date(p.effectiveAt, locale);
  switch (locale) {
    case 'da':
      return {
        subject: `Call Santa: vores privatlivspolitik ændres den ${when}`,
        body: [
          `Hej ${p.name}`,
          `Vi har offentliggjort version ${p.version} af vores privatlivspolitik. Den gælder fra ${when}.`,
          p.material
            ? 'Det er en væsentlig ændring: du bliver bedt om at acceptere den igen før næste opkald, når den træder i kraft.'
            : 'Ændringen kræver ikke noget af dig.',
          `Læs politikken her: ${p.policyUrl}`,
          'Venlig hilsen\nCall Santa',
        ].join('\n\n'),
      };
    case 'sv':
      return {
        subject: `Call Santa: vår integritetspolicy ändras den ${when}`,
        body: [
          `Hej ${p.name}`,
          `Vi har publicerat version ${p.version} av vår integritetspolicy. Den gäller från ${when}.`,
          p.material
            ? 'Det är en väsentlig ändring: du ombeds godkänna den igen före nästa samtal när den börjar gälla.'
            : 'Ändringen kräver inget av dig.',
          `Läs policyn här: ${p.policyUrl}`,
          'Vänliga hälsningar\nCall Santa',
        ].join('\n\n'),
      };
    default:
      return {
        subject: `Call Santa: our privacy policy changes on ${when}`,
        body: [
          `Hello ${p.name}`,
          `We have published version ${p.version} of our privacy policy. It takes effect on ${when}.`,
          p.material
            ? 'This is a material change: once it takes effect you will be asked to accept it again before the next call.'
            : 'You do not need to do anything.',
          `Read the policy here: ${p.policyUrl}`,
          'Kind regards\nCall Santa',
        ].join('\n\n'),
      };
  }
}

/** The one-time reset link; the token is in the link only, never stored in clear anywhere else. */
export function passwordResetMail(
  locale: Locale,
  p: { name: string; link: string; validMinutes: number },
): MailContent {
  switch (locale) {
    case 'da':
      return {
        subject: 'Call Santa: nulstil din adgangskode',
        body: [
          `Hej ${p.name}`,
          `Nogen (forhåbentlig dig) bad om at nulstille adgangskoden til din Call Santa-konto. Linket virker én gang i ${p.validMinutes} minutter:`,
          p.link,
          'Når adgangskoden er skiftet, bliver du logget ud alle steder. Bad du ikke om det, kan du se bort fra denne e-mail.',
          'Venlig hilsen\nCall Santa',
        ].join('\n\n'),
      };
    case 'sv':
      return {
        subject: 'Call Santa: återställ ditt lösenord',
        body: [
          `Hej ${p.name}`,
          `Någon (förhoppningsvis du) bad om att återställa lösenordet till ditt Call Santa-konto. Länken fungerar en gång i ${p.validMinutes} minuter:`,
          p.link,
          'När lösenordet är bytt loggas du ut överallt. Bad du inte om det kan du bortse från det här mejlet.',
          'Vänliga hälsningar\nCall Santa',
        ].join('\n\n'),
      };
    default:
      return {
        subject: 'Call Santa: reset your password',
        body: [
          `Hello ${p.name}`,
          `Someone (hopefully you) asked to reset the password of your Call Santa account. This link works once, for ${p.validMinutes} minutes:`,
          p.link,
          'Once the password is changed you are signed out everywhere. If you did not ask for this, ignore this email.',
          'Kind regards\nCall Santa',
        ].join('\n\n'),
      };
  }
}

/** Confirms the deletion and states the purge date (P10). */
export function accountClosedMail(locale: Locale, p: { name: string; purgeBy: number }): MailContent {
  const when = date(p.purgeBy, locale);
  switch (locale) {
    case 'da':
      return {
        subject: 'Call Santa: din konto er lukket',
        body: [
          `Hej ${p.name}`,
          `Din Call Santa-konto er lukket, og børneprofilerne er slettet. Alle øvrige personoplysninger slettes senest ${when}. Betalingsoplysninger, som loven kræver, gemmes uden personoplysninger.`,
          'Venlig hilsen\nCall Santa',
        ].join('\n\n'),
      };
    case 'sv':
      return {
        subject: 'Call Santa: ditt konto är stängt',
        body: [
          `Hej ${p.name}`,
          `Ditt Call Santa-konto är stängt och barnprofilerna är raderade. Alla övriga personuppgifter raderas senast ${when}. Betalningsuppgifter som lagen kräver sparas utan personuppgifter.`,
          'Vänliga hälsningar\nCall Santa',
        ].join('\n\n'),
      };
    default:
      return {
        subject: 'Call Santa: your account is closed',
        body: [
          `Hello ${p.name}`,
          `Your Call Santa account is closed and the child profiles are deleted. Every other personal datum is purged by ${when}. Payment records that the law requires are kept without personal data.`,
          'Kind regards\nCall Santa',
        ].join('\n\n'),
      };
  }
}
