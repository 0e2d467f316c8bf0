/**
 * The policy the service starts with. Later versions are published through the admin API
 * and live in the store; this one is seeded on first start so consent is always possible.
 */
export const INITIAL_POLICY = {
  version: '2026-11-01',
  effectiveAt: Date.parse('2026-11-01T00:00:00Z'),
  material: true,
  text: {
    en: [
      'Call Santa privacy policy.',
      'We never record or store voice, video or transcripts; audio exists only during the live call. The camera preview stays on your device.',
      'We keep your account (email, name, language) and the child profiles you create (first name, age 3-12, wish list, notes, preferences, language, optional photo) only to personalise Santa. Profile data is sent to our model provider (OpenAI) only for the call.',
      'You can see, correct, export and delete everything at any time. Deleting a profile removes it at once; deleting the account closes it at once and purges every personal datum within 30 days. Payment records the law requires are kept without personal data.',
      'Usage data (call durations, credits used, login activity) is kept for 2 years. Uploaded photos are deleted within 24 hours unless you save them to a profile.',
      'Payments go through Stripe; card details never reach our servers. We never sell or trade personal data.',
      'Material changes to this policy are announced at least 30 days ahead in the app, by email and on the public policy page.',
    ].join('\n\n'),
    da: [
      'Call Santas privatlivspolitik.',
      'Vi optager eller gemmer aldrig stemme, video eller udskrifter; lyden findes kun under selve opkaldet. Kameraets forhåndsvisning bliver på din enhed.',
      'Vi gemmer din konto (e-mail, navn, sprog) og de børneprofiler, du opretter (fornavn, alder 3-12, ønskeseddel, noter, præferencer, sprog, valgfrit foto), kun for at tilpasse julemanden. Profildata sendes kun til vores modeludbyder (OpenAI) til opkaldet.',
      'Du kan til enhver tid se, rette, eksportere og slette alt. En slettet profil forsvinder med det samme; en slettet konto lukkes straks, og alle personoplysninger slettes inden for 30 dage. Betalingsoplysninger, som loven kræver, gemmes uden personoplysninger.',
      'Brugsdata (opkaldsvarighed, forbrugt taletid, logins) gemmes i 2 år. Uploadede fotos slettes inden for 24 timer, medmindre du gemmer dem på en profil.',
      'Betalinger går gennem Stripe; kortoplysninger når aldrig vores servere. Vi sælger eller bytter aldrig personoplysninger.',
      'Væsentlige ændringer af politikken varsles mindst 30 dage i forvejen i appen, på e-mail og på den offentlige politikside.',
    ].join('\n\n'),
    sv: [
      'Call Santas integritetspolicy.',
      'Vi spelar aldrig in eller sparar röst, video eller utskrifter; ljudet finns bara under själva samtalet. Kamerans förhandsvisning stannar på din enhet.',
      'Vi sparar ditt konto (e-post, namn, språk) och de barnprofiler du skapar (förnamn, ålder 3-12, önskelista, anteckningar, preferenser, språk, valfritt foto) bara för att anpassa tomten. Profildata skickas till vår modellleverantör (OpenAI) bara för samtalet.',
      'Du kan när som helst se, rätta, exportera och radera allt. En raderad profil försvinner direkt; ett raderat konto stängs direkt och alla personuppgifter rensas inom 30 dagar. Betalningsuppgifter som lagen kräver sparas utan personuppgifter.',
      'Användningsdata (samtalens längd, använd samtalstid, inloggningar) sparas i 2 år. Uppladdade foton raderas inom 24 timmar om du inte sparar dem på en profil.',
      'Betalningar går via Stripe; kortuppgifter når aldrig våra servrar. Vi säljer eller byter aldrig personuppgifter.',
      'Väsentliga ändringar av policyn meddelas minst 30 dagar i förväg i appen, via e-post och på den offentliga policysidan.',
    ].join('\n\n'),
  },
} as const;
