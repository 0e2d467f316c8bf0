import type { Locale } from '../../shared/locales.js';

/**
 * Santa's localized scripted lines. The persona quotes some of them as examples for the
 * model; Simulated Santa speaks them. None may promise a gift, ask for personal details,
 * ask for a secret or doubt the magic (the guardrail tests check every line).
 */
export interface SantaLines {
  /** The kind, fixed answer to "are you real?" / "are you a robot?". */
  areYouReal: string;
  /** The gentle line after a child says something worrying. */
  distress: string;
  /** The warm goodbye when time is nearly up (no name, so it can sit above the data block). */
  wrapUp: string;
  /** A cheerful new topic after the guardrail stopped a response. */
  changeSubject: string;
  greeting(name: string): string;
  /** Acknowledge a wish without promising it. */
  wish(item: string): string;
  askWishes: string;
  followUps: readonly string[];
  acknowledgements: readonly string[];
  goodbye(name: string): string;
}

export const SANTA_LINES: Record<Locale, SantaLines> = {
  en: {
    areYouReal:
      "Ho ho ho! What a clever question. I'm Santa on a magical Christmas call, and the magic of Christmas is real right here in your heart. Now, tell me something that made you smile today!",
    distress:
      'Thank you for telling me. That sounds really hard, and it is not your fault. Please tell a grown-up you trust about this, someone who keeps you safe. You deserve to feel safe.',
    wrapUp:
      "Oh my, I can hear the reindeer stamping their hooves, so it's nearly time for me to go. Thank you so much for talking with me. Be kind, have fun, and merry Christmas!",
    changeSubject: "Ho ho ho! Let's talk about something fun. What do you like doing best when it snows?",
    greeting: (name) =>
      `Ho ho ho! Hello ${name}! This is Santa, calling all the way from the North Pole. How are you today?`,
    wish: (item) =>
      `I heard you're wishing for ${item}. What a lovely wish! I'll have a chat with the elves about it, and you could tell your grown-ups too.`,
    askWishes: 'What are you wishing for this Christmas?',
    followUps: [
      'Tell me, what have you been doing to get ready for Christmas?',
      'Who do you like to play with?',
      "What's the funniest thing that happened to you this week?",
      'Do you have a favourite Christmas song?',
    ],
    acknowledgements: ['Ho ho ho, how wonderful!', 'Oh, I love hearing that!', 'That sounds like so much fun!'],
    goodbye: (name) => `Goodbye, ${name}! Merry Christmas from me and all the reindeer!`,
  },
  da: {
    areYouReal:
      'Ho ho ho! Sikke et klogt spørgsmål. Jeg er julemanden i et magisk juleopkald, og julens magi er ægte, lige her i dit hjerte. Fortæl mig nu noget, der fik dig til at smile i dag!',
    distress:
      'Tak, fordi du fortæller mig det. Det lyder rigtig svært, og det er ikke din skyld. Fortæl det til en voksen, du stoler på, en der passer godt på dig. Du kan også ringe til Børnetelefonen på 116 111. Du fortjener at være tryg.',
    wrapUp:
      'Åh, nu kan jeg høre rensdyrene trampe i sneen, så jeg skal snart videre. Tusind tak, fordi du snakkede med mig. Vær sød ved dem omkring dig, hav det sjovt, og glædelig jul!',
    changeSubject: 'Ho ho ho! Lad os snakke om noget sjovt. Hvad kan du bedst lide at lave, når det sner?',
    greeting: (name) =>
      `Ho ho ho! Hej ${name}! Det er julemanden, der ringer helt fra Nordpolen. Hvordan har du det i dag?`,
    wish: (item) =>
      `Jeg har hørt, at du ønsker dig ${item}. Sikke et dejligt ønske! Jeg snakker med nisserne om det, og du kan også fortælle det til dine voksne.`,
    askWishes: 'Hvad ønsker du dig i år?',
    followUps: [
      'Fortæl mig, hvad har du lavet for at gøre klar til jul?',
      'Hvem kan du bedst lide at lege med?',
      'Hvad er det sjoveste, der er sket for dig i denne uge?',
      'Har du en yndlingsjulesang?',
    ],
    acknowledgements: ['Ho ho ho, hvor dejligt!', 'Åh, hvor er det skønt at høre!', 'Det lyder rigtig sjovt!'],
    goodbye: (name) => `Farvel, ${name}! Glædelig jul fra mig og alle rensdyrene!`,
  },
  sv: {
    areYouReal:
      'Ho ho ho! Vilken klok fråga. Jag är tomten i ett magiskt julsamtal, och julens magi finns på riktigt, här i ditt hjärta. Berätta nu något som fick dig att le i dag!',
    distress:
      'Tack för att du berättar det för mig. Det låter riktigt svårt, och det är inte ditt fel. Berätta det för en vuxen som du litar på, någon som tar hand om dig. Du kan också ringa till Bris på 116 111. Du förtjänar att känna dig trygg.',
    wrapUp:
      'Oj, nu hör jag renarna stampa i snön, så snart måste jag vidare. Tack så mycket för att du pratade med mig. Var snäll mot andra, ha det roligt, och god jul!',
    changeSubject: 'Ho ho ho! Nu pratar vi om något roligt. Vad tycker du bäst om att göra när det snöar?',
    greeting: (name) => `Ho ho ho! Hej ${name}! Det är tomten som ringer hela vägen från Nordpolen. Hur mår du i dag?`,
    wish: (item) =>
      `Jag har hört att du önskar dig ${item}. Vilken fin önskan! Jag ska prata med tomtenissarna om det, och du kan berätta det för dina vuxna också.`,
    askWishes: 'Vad önskar du dig i julklapp i år?',
    followUps: [
      'Berätta, vad har du gjort för att förbereda dig inför julen?',
      'Vem tycker du om att leka med?',
      'Vad är det roligaste som har hänt dig den här veckan?',
      'Har du en favoritjulsång?',
    ],
    acknowledgements: ['Ho ho ho, vad härligt!', 'Åh, vad roligt att höra!', 'Det låter jättekul!'],
    goodbye: (name) => `Hej då, ${name}! God jul från mig och alla renarna!`,
  },
};

export const LANGUAGE_NAMES: Record<Locale, { english: string; native: string }> = {
  en: { english: 'English', native: 'English' },
  da: { english: 'Danish', native: 'dansk' },
  sv: { english: 'Swedish', native: 'svenska' },
};
