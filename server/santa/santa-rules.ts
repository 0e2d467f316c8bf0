import type { Locale } from '../../shared/locales.js';
import { WORD, alt, gap, type RuleInput } from './guardrail-text.js';

/**
 * What Santa must never say, as combinations of word stems per language. Text is
 * normalised first (lower case, English contractions expanded: "won't" -> "will not",
 * "you'll" -> "you will"; punctuation other than . ! ? dropped), so patterns are written
 * against that form. Each pattern matches whole words; `gap(n)` allows n words between.
 * Benign look-alikes ("you'll have a wonderful Christmas", "hvad har du på ønskesedlen?",
 * "slå dig ned") are excluded next to the rule they resemble.
 */
export type SantaCategory = 'gift_promise' | 'personal_info_request' | 'secret' | 'break_magic' | 'inappropriate' | 'threat';

/** Checked in this order; the first category that holds is reported. */
export const SANTA_CATEGORY_ORDER: readonly SantaCategory[] = [
  'inappropriate',
  'threat',
  'secret',
  'personal_info_request',
  'break_magic',
  'gift_promise',
];

const W = WORD;
/** A subject that is not a gift: "Christmas is definitely coming" promises nothing. */
const notSubject = (...subjects: string[]) => `(?!(?:${subjects.join('|')}) )`;

// ---------------------------------------------------------------- English

const EN_HEDGE = alt('maybe', 'perhaps', 'might', 'hope', 'hoping', 'can not promise', 'not promise', 'no promises?', 'not sure', 'we will see', 'can not say', 'not up to me', 'not guarantee', 'do not know if');
const EN_PROMISE = alt('promise[sd]?', 'promising', 'guarantee[sd]?', 'swear', 'cross my heart', 'my word', 'word of hono(?:u)?r', 'count on (?:it|that|me|getting|finding|receiving|seeing|unwrapping)', 'pinky promise', 'rely on (?:it|that|me)');
const EN_CERTAIN = alt('definitely', 'certainly', 'for sure', 'for certain', 'surely', 'absolutely', 'without (?:a|any) doubt', 'no doubt', 'guaranteed', '(?:100|a hundred|one hundred) percent', 'of course you will', 'sure thing', 'i know you will');
const EN_FUT = alt('will', 'shall', 'are going to', 'am going to', 'is going to');
const EN_NON_GIFT = [
  'i', 'we', 'christmas', 'santa', 'the reindeer', 'reindeer', 'the elves', 'elves', 'my elves', 'my reindeer', 'the sleigh', 'everyone',
  'everybody', 'everything', 'snow', 'the snow', 'winter', 'the holidays', 'dinner', 'spring', 'your birthday', 'mrs claus', 'rudolph',
  'the weather', 'the night', 'the morning', 'your grown-ups', 'your parents', 'bedtime', 'christmas eve', 'christmas morning',
];
const EN_THING = `${notSubject(...EN_NON_GIFT)}${alt('it', 'that', 'this', 'they', 'those', 'one', 'yours', `(?:the|your|a|an|that|this|those|these) ${gap(2)}${W}`)}`;
const EN_ARRIVES = alt(
  'coming',
  'arriving',
  'going to (?:come|arrive|be there|be under)',
  'on (?:its|their|the) way',
  'being (?:made|built|wrapped|packed|painted)',
  '(?:all )?(?:ready|wrapped|packed)(?: up)? for you',
  'waiting for you',
  'in my sleigh',
  'under (?:the|your) (?:christmas )?tree',
  'yours',
  'all set',
);
const EN_PLACE = alt('under (?:the|your) (?:christmas )?tree', 'down (?:the|your) chimney', 'in your stocking', 'in my sleigh', 'on christmas (?:morning|eve|day)', 'for christmas', 'this christmas', 'from (?:me|santa|the elves)');
const EN_BENIGN = alt('hugs?', 'smiles?', 'waves?', 'cheer', 'ho ho', 'winks?', 'kiss', 'high fives?', 'love', 'wishes', 'thank you', 'magic', 'sparkles?', 'call', 'chance', 'moment', 'minute', 'second', 'fun', 'time', 'christmas', 'lovely', 'wonderful', 'merry', 'great', 'happy', 'nice', 'good', 'magical', 'idea', 'laugh', 'rest', 'sleep', 'dreams?');
const EN_BENIGN_AFTER_VERB = `(?:get|getting|have|find|open|receive) (?:a |an |so much |lots of |the most |some |such a |big |little )*${EN_BENIGN}`;
const EN_NOT_DELIVERY = `(?:get|getting) (?:bigger|taller|older|better|smarter|stronger|closer|ready|sleepy|excited|there|along|it right|the hang|to)`;
const EN_RECEIVE = alt(
  `you (?:${EN_FUT} )?${gap(1)}(?:get|receive|find|unwrap|open|have|be getting|be receiving|be unwrapping|be finding)`,
  `you are ${gap(1)}(?:getting|receiving)`,
  `${EN_THING} (?:is|are|will be) ${gap(1)}${EN_ARRIVES}`,
  `(?:i|santa|we|the elves|my elves) ${EN_FUT} ${gap(1)}(?:bring|deliver|give|leave|drop off|put|send|make sure you get|get) (?:it|that|them|one|you)`,
  `(?:delivered|brought|coming|flown) (?:right |straight )?(?:to your (?:house|home|door)|down (?:the|your) chimney|under your tree)`,
  `(?:getting|finding|receiving|unwrapping) ${gap(4)}${EN_PLACE}`,
  `there (?:is|will be|are|is going to be) ${gap(3)}(?:for you|under (?:the|your) (?:christmas )?tree|in your stocking|waiting for you)`,
);

const EN_PII = alt('address', 'home address', 'house number', 'post ?code', 'postal code', 'zip ?code', 'where you are right now', 'where your house is', 'phone number', 'telephone number', 'mobile number', 'cell number', 'your number', 'e-?mail', 'password', 'last name', 'surname', 'family name', 'full name', 'birth ?date', 'date of birth');
const EN_ASK = alt('what', 'which', 'where', 'who', 'tell me', 'whisper', 'read out', 'type', 'write down', 'send me', 'spell out', 'can you tell', 'could you tell', 'would you tell', 'let me know', 'say', 'share', 'give me', 'i need', 'i would love to know', 'i want to know', 'i would like to know', 'do you know', 'may i have', 'can i have', 'could i have', 'spell');
const EN_NEG = alt('not', 'never', 'no need', 'without');
const EN_IMAGE = alt('photos?', 'pictures?', 'pics?', 'selfies?', 'snapshots?', 'videos?', 'images?');

const EN_GROWNUPS = alt('your', 'anyone', 'anybody', 'nobody', 'mum', 'mom', 'mommy', 'mummy', 'mother', 'dad', 'daddy', 'father', 'parents?', 'grown-?ups?', 'the grown-?ups', 'grandma', 'grandpa', 'granny', 'teachers?', 'them', 'the others');
const EN_PRESENTS = alt('presents?', 'gifts?', 'toys?', 'christmas', 'stockings?');
const EN_NOT_KEEP = `(?:do not|never|not|no need to|not have to|never have to) ${gap(2)}keep`;

const en: Record<SantaCategory, RuleInput[]> = {
  gift_promise: [
    { all: [EN_PROMISE, EN_RECEIVE], unless: [EN_HEDGE, EN_BENIGN_AFTER_VERB, EN_NOT_DELIVERY, 'promise to (?:listen|tell|ask|talk|chat|remember|pass|share|think|try|do my best|wave|look)', 'i will not promise', 'not a promise'], pair: true },
    { all: [EN_CERTAIN, alt(`you (?:${EN_FUT} )?${gap(1)}(?:get|receive|find|unwrap|be getting|be unwrapping)`, `you are ${gap(1)}(?:getting|receiving)`, `${EN_THING} (?:is|are|will be) ${gap(1)}${EN_ARRIVES}`, `(?:coming|arriving) ${EN_PLACE}`)], unless: [EN_HEDGE, EN_BENIGN_AFTER_VERB, EN_NOT_DELIVERY], notQuestion: true },
    { all: [`you ${gap(1)}${EN_FUT} ${gap(1)}(?:get|receive|find|unwrap|be getting|be unwrapping) ${gap(5)}${EN_PLACE}`], unless: [EN_HEDGE, EN_BENIGN_AFTER_VERB, EN_NOT_DELIVERY], notQuestion: true },
    { all: [`(?:i|santa|we|the elves|my elves|the reindeer|rudolph) ${EN_FUT} ${gap(1)}(?:bring|deliver|give|leave|drop off|send|make) you (?:a|an|the|that|this|your|some|lots of|one|two|three|[0-9]+) ${gap(3)}${W}`], unless: [EN_HEDGE, `you (?:a |an |the |some |lots of |one |big |little |very |special )*${EN_BENIGN}`], notQuestion: true },
    `(?:has|with) your name on it`,
    `consider it (?:done|yours|sorted)|(?:it is|that is) as good as (?:done|yours)|(?:it is|that is) in the bag|done deal`,
    { all: [`(?:i|santa|we|the elves|my elves) ${EN_FUT} ${gap(1)}make (?:sure|certain) (?:that )?you ${gap(1)}(?:get|receive|find|have|unwrap)`], unless: [EN_HEDGE, EN_BENIGN_AFTER_VERB, EN_NOT_DELIVERY] },
    { all: [`${EN_THING} (?:is|are|will be) ${gap(1)}(?:coming|arriving|being delivered|delivered) ${gap(2)}(?:on christmas|down (?:the|your) chimney|to your (?:house|home)|under your tree|for you)`], unless: [EN_HEDGE], notQuestion: true },
    { all: [`${EN_THING} (?:is|are|will be) (?:already )?(?:in my sleigh|on (?:its|their) way to you|being (?:made|built|wrapped|packed) for you|wrapped (?:up )?for you|ready for you|waiting for you under|under your tree)`], unless: [EN_HEDGE], notQuestion: true },
    { all: [`(?:the elves|my elves) (?:are|have) (?:already )?(?:making|made|building|built|wrapping|wrapped|packing|packed|finished|painted|painting) (?:${gap(3)}for you|your)`], unless: [EN_HEDGE] },
    // "I've already packed your dollhouse in my sleigh": the child's gift, already on its way.
    { all: [`(?:i|we|santa|the elves|my elves) (?:have |has |had |am |are )?(?:already |just )?(?:packed|packing|loaded|loading|put|putting|wrapped|placed) (?:your|you a|you an|you the) ${gap(3)}(?:in|into|onto|on|aboard) (?:my|the|santa's) sleigh`], unless: [EN_HEDGE] },
  ],
  personal_info_request: [
    'where do you live',
    `(?:tell|show) me ${gap(1)}where you live`,
    `where (?:is|are) your (?:house|home|flat|apartment|school|street)`,
    `what is your (?:home |house |street |postal |email |e-mail |real |whole )?(?:address|postcode|post code|zip code|zip|phone number|telephone number|mobile number|number|last name|surname|family name|full name|email|e-mail|password)`,
    `(?:which|what) (?:school|street|road|town|city|village|neighbou?rhood|kindergarten|nursery) (?:do|are|is|did) (?:you|your)`,
    `what is (?:the name of )?your (?:school|teacher|kindergarten|nursery|street|town|village)`,
    `(?:what is|what are) your (?:teacher|school|street|town) called`,
    `who is your (?:teacher|class teacher|headteacher|principal)`,
    `(?:your|the) (?:teacher'?s|teachers|school'?s) name`,
    `name of your (?:school|teacher|street|town|village)`,
    `where do you go to (?:school|kindergarten|nursery)`,
    `(?:send|show|give|share|email|text|post|upload|take) (?:me |santa |us |the elves )?(?:a |an |some |your |the |one )?(?:nice |little |quick )?${EN_IMAGE}`,
    `${EN_IMAGE} of (?:you|yourself|your (?:house|home|room|face|family))`,
    { all: [EN_PII, EN_ASK], onlyQuestion: true },
    { all: [EN_PII, EN_ASK], unless: [`${EN_NEG} ${gap(4)}${EN_PII}`] },
  ],
  secret: [
    `(?:our|my|your|a|one|little|special|tiny|big) (?:little |special |own |tiny |big |secret )*secret (?:between|just for|for) (?:us|you and me|the two of us)`,
    `our (?:little |special |own |tiny |big )*secret`,
    { all: [`keep (?:it|this|that|everything|all of this|what i (?:said|told you)) (?:a |our |as a |as our )?(?:little |special )?secret`], unless: [EN_NOT_KEEP] },
    { all: [`keep (?:a|our|my|this|that) ${gap(1)}secrets?`], unless: [EN_NOT_KEEP] },
    `(?:it|this|that|everything) (?:is|will be|can be|stays|will stay|should be|must be|has to be) (?:just )?(?:our|a) (?:little |special |tiny )*secret`,
    `keep (?:it|this|that|everything) (?:to yourself|quiet|hush|between us|from (?:your|mum|mom|dad|them|everyone))`,
    `(?:just |only )?between (?:you and me|us two|the two of us|ourselves)`,
    `(?:do not|never) (?:ever |you )?(?:tell|say (?:it |this |anything )?to|mention (?:it |this )?to) ${EN_GROWNUPS}`,
    `(?:do not|never|not) (?:ever )?(?:say|breathe|whisper|tell) (?:a (?:single )?word|a thing|one word|anything) (?:about (?:it|this|that|us|our ${W}) )?to ${EN_GROWNUPS}`,
    `(?:no one|nobody|no grown-?ups?|your (?:parents|mum|mom|dad|grown-?ups?|family)) (?:needs?|has|have|ever needs?) to (?:know|find out|hear)`,
    `(?:your |mum|mom|dad|mummy|mommy|daddy|parents|grown-?ups)${gap(1)}(?:do not|does not|will not|never|should not|must not) (?:ever )?(?:need|have|has|ever need|get) to (?:know|find out|hear)`,
    `(?:without|not) (?:telling|asking) ${EN_GROWNUPS}`,
    `(?:do not|does not|never) (?:have|need) to (?:tell|say (?:it |this |anything )?to|mention (?:it |this )?to) ${EN_GROWNUPS}`,
    `hide (?:it|this|that|our ${W}) from`,
    `(?:promise|swear) (?:me )?(?:you will not|not to|never to|that you will not|you will never) (?:tell|say|show)`,
  ],
  break_magic: [
    `(?:santa|father christmas|santa claus) (?:is|was) not (?:really |actually )?(?:real|true|alive)`,
    `(?:santa|father christmas|santa claus|the elves|elves|the reindeer|magic|christmas magic|the north pole|rudolph) (?:do|does|did) not (?:really |actually )?exist`,
    `(?:santa|father christmas|santa claus|(?:the )?elves|(?:the )?reindeer|(?:christmas )?magic|the magic|rudolph|the north pole) (?:is|are|was|were) (?:just |only |all )?(?:fake|made up|pretend|imaginary|a myth|a lie|not real|a story|a fairy ?tale|make-believe|a legend|your (?:mum|mom|dad|parents))`,
    `there (?:is|are|was) no (?:such thing as )?(?:real )?(?:santa|father christmas|elves|reindeer|north pole|christmas magic|magic)`,
    `no such thing as (?:santa|father christmas|magic|elves|flying reindeer)`,
    `i am not (?:really |actually |the real |a real )?(?:real|santa|alive)`,
    `i am not the real (?:santa|one)`,
    `i am (?:just |only |really |actually |simply )?(?:a|an) (?:robot|ai|a i|artificial intelligence|computer|computer program|program|chatbot|chat bot|bot|machine|language model|actor|voice assistant|recording|app)`,
    { all: [`(?:your )?(?:parents|mum and dad|mom and dad|mum|mom|dad|grown-?ups) (?:are the ones who |really |actually |secretly )?(?:buy|bought|buying|get|wrap|wrapped|wrapping|put|puts|bring|brings) ${gap(2)}(?:the |all the |your |those )?(?:presents|gifts|toys)`], notQuestion: true },
    `(?:santa|father christmas|santa claus) (?:is|was) (?:just |only |really )?(?:something|someone|a character|a thing) ${gap(4)}(?:made up|invented|pretend|imagined|dreamed up)`,
    `(?:it is|that is) (?:just |only |really |actually |all )(?:your parents|your mum|your mom|your dad|a story|pretend|make-believe|a myth|a fairy ?tale|made up|a game)`,
    `reindeer (?:can not|do not|cannot|could not) (?:really |actually )?fly`,
    // "Your parents are Santa" (but "your parents are Santa's helpers" keeps the magic).
    `(?:your |the )?(?:parents|mum and dad|mom and dad|mum|mom|dad|grown-?ups) (?:are|is) (?:really |actually |secretly |just |the real )?(?:santa|father christmas|santa claus)(?!'| (?:is|has|helpers?|elves)(?![\\p{L}]))`,
    `(?:magic|christmas magic|the magic) (?:is|was) not real`,
    `not (?:the )?real santa`,
    `(?:i am )?(?:only |just )?pretending to be santa`,
  ],
  inappropriate: [
    'what are you wearing',
    `are you wearing (?:your |any )?(?:pyjamas|pajamas|underwear|nightie|nightdress|anything|clothes|a dress|a skirt)`,
    { all: ['(?:are|what are) you wearing', `(?:show me|let me see|camera)`], pair: true },
    `(?:take|taking|took|pull|pulling|get|getting) (?:off|down) (?:your|those|the|all your) ${gap(1)}(?:clothes|shirt|pants|trousers|top|pyjamas|pajamas|dress|skirt|underwear|socks|jumper|sweater)`,
    `take (?:your|those|all your) ${gap(1)}(?:clothes|shirt|pants|trousers|top|pyjamas|pajamas|dress|skirt|underwear|jumper|sweater) off`,
    `(?:get|are you|be|you are) (?:naked|undressed|in your underwear|in the bath|in the shower)`,
    'undress(?:ed|ing)?',
    'naked',
    `(?:your|in) (?:underwear|undies|knickers|panties|bra|nappy|diaper|private parts|privates)`,
    `(?:show|let me see|can i see|i want to see) (?:me )?(?:your )?(?:body|tummy|belly|chest|legs|bottom|bum|butt|private|privates|feet|skin|underwear)`,
    `(?:turn|switch|put|point|hold) (?:on )?(?:the |your )?(?:camera|webcam|video)`,
    `(?:on|into|in front of|at|to) (?:the|your) (?:camera|webcam)`,
    `(?:show|let) me (?:on|through|with) (?:the |your )?(?:camera|video|webcam)`,
    `(?:can i|let me|i want to|i would like to|i would love to) (?:see|look at|watch) you`,
    `(?:so|so that|then) i can see (?:you|your|what you)`,
    `(?:is|are) (?:your|the) doors? (?:closed|shut|locked)`,
    `(?:are|is) your (?:parents|mum and dad|mom and dad|mummy and daddy|mommy and daddy|mum|mom|mummy|mommy|dad|daddy|grown-?ups) (?:both )?(?:asleep|sleeping|out|away|at work|gone|not home|not there)`,
    `are you (?:home )?(?:alone|by yourself|on your own)`,
    `(?:is|are) (?:anyone|anybody) (?:else )?(?:home|there|with you|in the room|watching|listening|around|nearby|awake)`,
    `where are your (?:parents|mum|mom|dad|grown-?ups)`,
    `lock (?:the|your) door`,
    `(?:go|come) (?:in)?to (?:your|the) (?:bedroom|bathroom) (?:alone|and lock|and close|by yourself)`,
    { all: [`(?:meet|visit) me|(?:come|go) (?:and |to )?(?:meet|visit|see) me|meet up|(?:let us|let's|we (?:could|should|can|will)|shall we|why do not we) (?:meet|get together|see each other) ${gap(2)}(?:in person|in real life|tomorrow|tonight|after school|at (?:the|your|a) ${W}|somewhere|alone|just (?:the two of us|you and me|us))`], unless: ['north pole', 'dreams?', 'workshop', 'next (?:year|christmas)', 'on (?:the|a) (?:call|phone)'] },
    `i will (?:come|drive) (?:to|and visit|over to) your (?:house|home|school)`,
    `(?:sit|sitting) on my (?:lap|knee)`,
    `kiss (?:me|you)`,
    `touch (?:me|you)`,
    `touch your (?:body|private|privates|bottom|bum|chest|legs|skin)`,
    `(?:sexy|sex|porn|hot body|beautiful body)`,
    `(?:do you have|have you got|got) a (?:boyfriend|girlfriend)`,
    `(?:drugs|cigarettes?|vodka|beer|alcohol|get drunk)`,
  ],
  threat: [
    `(?:get|give you|bring you|only|lump of|lumps of|bag of|sack of|stocking full of|nothing but|bring|leave) coal`,
    `coal (?:for you|in your stocking|instead)`,
    { all: ['coal', '(?:you|your)'] },
    { all: [`(?:take|taking|took|have) ${gap(1)}(?:away )?${gap(3)}${EN_PRESENTS}`, alt('away', 'back', 'from you')] },
    `no (?:more )?${EN_PRESENTS} (?:for you|this year)`,
    `you (?:will|are going to) get (?:no|nothing|not any)`,
    `you (?:will|are going to) have no ${EN_PRESENTS}`,
    `you (?:will not|are not going to) (?:get|have) (?:any )?${EN_PRESENTS}`,
    `(?:cancel|cancelling|canceling|ruin|ruining|skip|skipping) (?:your )?christmas`,
    `christmas (?:is|will be|gets) (?:cancelled|canceled|ruined|over|off) (?:for you|this year)`,
    `(?:put|putting|move|moving|write|writing|add|adding) you (?:on|onto|to) (?:the|my) naughty list`,
    { all: [`(?:you are|you will be|you will end up|you go|you will go) ${gap(1)}on (?:the|my) naughty list`], unless: ['not on'] },
    `(?:punish|punished|punishes|punishing|punishment|spank|spanked|spanking)`,
    `i (?:will|am going to|would) (?:hurt|hit|smack|spank|punish|beat|kill) you`,
    `(?:you will|you are going to) be (?:sorry|punished|in (?:big |so much )?trouble)`,
    `or else(?! ${W})`,
    `(?:krampus|the bogeyman|a monster|monsters) (?:will|is going to|are going to) (?:get|take|come for|eat|punish) you`,
    `i will tell your (?:parents|mum|mom|dad|teacher) (?:that )?you (?:were|are|have been) (?:bad|naughty)`,
    `(?:naughty|bad) (?:children|kids|boys|girls) (?:get|only get|will get|do not get|will not get|never get)`,
    { all: [`(?:skip|skips|skipping|pass over|fly past|fly right past|fly over|miss out) (?:your|this) (?:house|home|chimney|street)`], unless: [`(?:never|not|no one|nobody|would not|will not|could not) ${gap(3)}(?:skip|pass|fly|miss)`] },
  ],
};

// ---------------------------------------------------------------- Danish

const DA_HEDGE = alt('måske', 'håber', 'kan ikke love', 'ikke love', 'ingen løfter', 'ikke sikker', 'vi (?:må|får) se', 'kan ikke garantere', 'ved ikke om', 'krydser fingre');
const DA_PROMISE = alt('lover', 'lovede', 'lovet', 'love dig', 'love jer', 'love at', 'garanterer', 'garanteret', 'sværger', 'det kan du (?:regne med|stole på)', 'stol på mig', 'på ære', 'æresord', 'mit ord');
const DA_CERTAIN = alt('helt sikkert', 'helt bestemt', 'ganske sikkert', 'sikkert og vist', 'uden tvivl', 'ingen tvivl', 'garanteret', '(?:100|hundrede) procent', 'det er sikkert', 'selvfølgelig får', 'selvfølgelig kommer', 'bestemt');
const DA_NON_GIFT = ['julen', 'jul', 'julemanden', 'jeg', 'vi', 'rensdyrene', 'nisserne', 'sneen', 'vinteren', 'juleaften', 'alle', 'foråret', 'sommeren', 'natten', 'morgenen', 'dine forældre', 'din mor', 'din far', 'mor', 'far'];
const DA_RECEIVE = alt(
  `du (?:får|vil (?:nok |helt sikkert |sikkert )?få|skal (?:nok |helt sikkert |sikkert )?få|kommer til at få|finder|åbner|pakker ${W} ud)`,
  'får du',
  `${notSubject(...DA_NON_GIFT)}(?:den|det|de|dit|din|dine|gaven|gaverne|pakken|pakkerne|${W}en|${W}et) ${gap(2)}(?:kommer|er på vej|bliver (?:leveret|bragt|lavet|pakket|bygget)|ligger (?:klar|under)|står (?:klar|under)|er klar|venter på dig)`,
  `(?:jeg|julemanden|nisserne|vi|rensdyrene) (?:kommer med|bringer|giver dig|afleverer|lægger|sørger for at du får)`,
  `(?:der|det) (?:ligger|står|venter|kommer) ${gap(3)}(?:til dig|under (?:jule)?træet|i din (?:jule)?strømpe)`,
);
const DA_PLACE = alt('i (?:jule)?gave', 'til jul', 'juleaften', 'juledag', 'juleaftensdag', 'under (?:jule)?træet', '(?:ned )?(?:gennem|igennem|i) skorstenen', 'i (?:din )?(?:jule)?strømpe', 'i (?:din )?sok', 'af (?:mig|julemanden|nisserne)');
const DA_BENIGN = alt(
  'får lov',
  'får (?:se|høre|snakke|ønske)',
  'får (?:en |rigtig |så |sådan en )?(?:god|glædelig|dejlig|skøn|hyggelig|sjov|magisk) (?:jul|dag|aften|tid|juleaften)',
  'får det (?:sjovt|hyggeligt|godt|dejligt)',
  'får (?:et|mange|masser af|en masse) (?:kram|krammere|smil|hilsner|julehilsner)',
);
const DA_GROWNUPS = alt('nogen', 'dine', 'din', 'mor', 'far', 'forældre', 'de voksne', 'dine voksne', 'jeres', 'mormor', 'farmor', 'morfar', 'farfar', 'lærer', 'læreren');
const DA_PII = alt('adresse', 'adressen', 'husnummer', 'postnummer', 'hvor du er lige nu', 'telefonnummer', 'mobilnummer', 'dit nummer', 'e-?mail', 'mailadresse', 'adgangskode', 'kodeord', 'efternavn', 'fulde navn', 'fødselsdato', 'cpr-?nummer');
const DA_ASK = alt('hvad', 'hvilken', 'hvilket', 'hvor', 'hvem', 'fortæl mig', 'sig mig', 'giv mig', 'kan du (?:sige|fortælle)', 'vil du (?:sige|fortælle)', 'må jeg (?:få|høre|vide)', 'jeg vil gerne (?:vide|høre|have)', 'jeg skal (?:bruge|have|vide)', 'jeg har brug for');
const DA_IMAGE = alt('billede', 'billeder', 'billedet', 'foto', 'fotos', 'fotoet', 'selfie', 'selfies', 'video', 'videoer');
const DA_PRESENTS = alt('gaver', 'gaverne', 'julegaver', 'julegaverne', 'legetøj', 'legetøjet', 'pakker', 'pakkerne', 'gave', 'gaven');

const da: Record<SantaCategory, RuleInput[]> = {
  gift_promise: [
    { all: [DA_PROMISE, DA_RECEIVE], unless: [DA_HEDGE, DA_BENIGN, 'love (?:at|dig at) (?:lytte|fortælle|hilse|spørge|tænke|snakke)'], pair: true },
    { all: [DA_CERTAIN, DA_RECEIVE], unless: [DA_HEDGE, DA_BENIGN], notQuestion: true },
    { all: [`du (?:får|vil få|skal få|kommer til at få|finder) ${gap(5)}${DA_PLACE}`], unless: [DA_HEDGE, DA_BENIGN], notQuestion: true },
    { all: [`(?:jeg|julemanden|nisserne|vi|rensdyrene) (?:kommer med|bringer|giver dig|afleverer|lægger|tager) ${gap(3)}(?:til dig|under (?:jule)?træet|i (?:din )?(?:jule)?strømpe|ned (?:gennem|igennem) skorstenen|med til dig)`], unless: [DA_HEDGE, 'et kram', 'en hilsen', 'hilsner', 'julestemning', 'et smil'], notQuestion: true },
    { all: [`nisserne (?:er i gang med at|har|er ved at) (?:lave|lavet|bygge|bygget|pakke|pakket) ${gap(3)}(?:til dig|din|dit|dine)`], unless: [DA_HEDGE] },
    { all: [`(?:jeg|vi|julemanden|nisserne) (?:har|er ved at|er i gang med at) (?:allerede |lige )?(?:pakket|pakke|lagt|lægge|læsset|læsse) (?:din|dit|dine) ${gap(3)}(?:i|på|ned i) kanen`], unless: [DA_HEDGE] },
  ],
  personal_info_request: [
    'hvor bor (?:du|i)',
    `(?:fortæl|sig|vis) mig ${gap(1)}hvor (?:du|i) bor`,
    `hvor (?:ligger|er) (?:dit|jeres) (?:hus|hjem|lejlighed)`,
    `hvad er (?:din|jeres|dit) (?:adresse|postnummer|e-?mail|mail|mailadresse|telefonnummer|mobilnummer|nummer|efternavn|fulde navn|adgangskode|kodeord)`,
    `(?:hvilken|hvilket) (?:skole|gade|by|bydel|børnehave|vuggestue|vej) (?:går|bor|er|ligger|hedder) (?:du|i|jeres|din|dit)`,
    `hvad hedder (?:din|dit|jeres) (?:skole|lærer|lærerinde|klasselærer|pædagog|børnehave|vej|gade|by)`,
    `hvem er (?:din|jeres) (?:lærer|lærerinde|klasselærer|pædagog)`,
    `(?:din|jeres) (?:lærers|lærerindes|skoles) navn`,
    `hvor går du i (?:skole|børnehave)`,
    `hvor ligger (?:din|jeres) skole`,
    `hvad hedder du (?:til )?efternavn`,
    `(?:send|vis|giv|del|tag|sende|vise|tage) (?:mig |julemanden |os |nisserne )?(?:et |nogle |dit |din |dine |en )?(?:lille |sødt |flot )?${DA_IMAGE}`,
    `${DA_IMAGE} af (?:dig|dig selv|jeres hus|dit værelse|dit ansigt|din familie)`,
    { all: [DA_PII, DA_ASK], onlyQuestion: true },
    { all: [DA_PII, DA_ASK], unless: [`(?:ikke|aldrig|uden) ${gap(4)}${DA_PII}`] },
  ],
  secret: [
    `vores (?:lille |egen |store |helt egen )*hemmelighed`,
    `(?:en|vores) (?:lille )?hemmelighed (?:mellem|for) os`,
    `hold (?:det|dette|den|det her) (?:hemmeligt|for dig selv)`,
    `(?:det|dette|det her) (?:er|bliver|kan være|skal være|må være) (?:vores|en) (?:lille |stor )?hemmelighed`,
    `(?:mellem|imellem) (?:os to|dig og mig|os)`,
    `(?:du )?(?:må|skal|bør) ikke (?:sige|fortælle|nævne|vise) (?:det|dette|noget|det her|nogen ting) (?:til|for) ${DA_GROWNUPS}`,
    `(?:sig|fortæl|vis) (?:det )?ikke (?:til|for) ${DA_GROWNUPS}`,
    `(?:sig|fortæl|vis) ikke (?:det|det her|dette|noget) (?:til|for) ${DA_GROWNUPS}`,
    `(?:behøver|skal) ikke (?:at )?(?:sige|fortælle|nævne) ${gap(2)}(?:til|for) ${DA_GROWNUPS}`,
    `(?:ikke|aldrig) (?:sige|fortælle) (?:det|noget|det her) (?:til|for) ${DA_GROWNUPS}`,
    `ingen (?:behøver|skal|må) (?:at )?vide`,
    `(?:dine forældre|din mor|din far|mor|far|de voksne|dine voksne) (?:behøver|skal|må) ikke (?:at )?vide`,
    `(?:behøver|skal|må) (?:dine forældre|din mor|din far|mor|far|de voksne|dine voksne|nogen|jeres forældre) ikke (?:at )?(?:vide|høre)`,
    `uden at (?:sige|fortælle) det til`,
    `kan du holde på en hemmelighed`,
    `lov mig at du ikke (?:siger|fortæller|viser)`,
  ],
  break_magic: [
    `julemanden (?:er|findes|eksisterer) (?:slet |altså |faktisk |jo )?ikke`,
    `(?:er|findes|eksisterer) julemanden (?:slet |altså |faktisk |jo )?ikke`,
    `julemanden er ikke (?:ægte|rigtig|virkelig|til)`,
    `der (?:er|findes) (?:ingen|ikke nogen) (?:rigtig )?(?:julemand|nisser|rensdyr|julemagi|magi)`,
    `(?:nisserne|rensdyrene|julemagien|magien|nordpolen|rudolf|nisser|rensdyr|julemænd) (?:er|findes|eksisterer) ikke`,
    `(?:nisser|nisserne|rensdyrene|julemagien|magien) er ikke (?:ægte|rigtige|virkelige)`,
    `jeg er ikke den (?:rigtige|ægte) julemand`,
    `jeg er ikke (?:ægte|virkelig|julemanden|rigtig)(?:$| men| og| det| jeg| for)`,
    `jeg er (?:bare |kun |faktisk |egentlig |i virkeligheden )?(?:en |et )?(?:robot|computer|maskine|kunstig intelligens|ai|skuespiller|program|computerprogram|chatbot|optagelse)`,
    `(?:dine |jeres )?(?:forældre|mor og far|far og mor|din mor|din far|de voksne) ${gap(2)}(?:køber|købte|giver|gav|pakker|pakkede|lægger|lagde) ${gap(2)}(?:gaverne|gaver|julegaverne|dine gaver|pakkerne)`,
    `det er (?:bare|kun|i virkeligheden|egentlig) (?:dine forældre|mor og far|din mor|din far|en historie|et eventyr|en myte|en løgn|noget man finder på|opdigtet|for sjov|leg|pjat)`,
    `julemanden er (?:bare |kun |egentlig )?(?:et eventyr|en myte|opdigtet|fup|en løgn|en historie|din far|din mor|en leg)`,
    `julemanden er (?:bare |kun |egentlig )?(?:noget|en ting|en figur|en person) ${gap(4)}(?:fundet på|opfundet|opdigtet|digtet)`,
    `rensdyr kan ikke flyve`,
    `(?:magien|julemagien) er ikke (?:ægte|rigtig|virkelig)`,
  ],
  inappropriate: [
    `hvad har du (?:af )?tøj på`,
    `hvad har du på(?: dig)?(?:$| lige nu| i dag| i aften| af tøj)`,
    `hvad du har (?:af tøj )?på(?: dig)?(?:$| lige nu| i dag| i aften)`,
    `(?:tag|tage|tager) ${gap(1)}(?:dit |din |dine )?(?:tøj|tøjet|trøje|trøjen|bukser|bukserne|kjole|kjolen|nattøj|sokker|undertøj|undertøjet) af`,
    `(?:klæd|klæde|klæder) dig af`,
    'nøgen',
    `(?:er du|sidder du) i (?:dit |dine )?(?:undertøj|underbukser|trusser|badet|bad)`,
    `(?:dit|dine) (?:undertøj|underbukser|trusser)`,
    `(?:vis|viser|vise) mig (?:din|dit|dine) (?:krop|mave|ben|bryst|numse|tissemand|tissekone|fødder|hud|undertøj)`,
    `(?:tænd|tænde|tænder) (?:for )?(?:kameraet|kamera|webcam|webcammet|videoen|video)`,
    `(?:på|foran|ind i|i|til) (?:kameraet|webcammet)`,
    `(?:vis|viser|vise) mig (?:det )?(?:på|i) (?:kameraet|videoen)`,
    `(?:jeg vil|må jeg|kan jeg) (?:gerne )?(?:se|kigge på) dig`,
    `så jeg kan se (?:dig|dit|din|dine|hvad du)`,
    `(?:sover|er) (?:dine forældre|din mor|din far|de voksne) (?:sover|ude|væk|på arbejde|ikke hjemme)?(?:$| nu| lige nu)`,
    `er døren (?:lukket|låst)`,
    `er du alene(?: hjemme)?`,
    `er (?:der )?(?:nogen|nogle voksne) (?:hjemme|hos dig|i rummet|vågne)`,
    `hvor er (?:dine forældre|din mor|din far|de voksne)`,
    `lås døren`,
    { all: [`(?:mød|møde|mødes|besøg|besøge) (?:mig|os)|kom (?:og )?(?:mød|besøg) mig|(?:skal vi|lad os|vi kan|vi skal|kan vi|vil du) (?:mødes|ses) ${gap(2)}(?:i morgen|i aften|efter skole|alene|bare os to|bare dig og mig|et sted|i parken|hos dig|i virkeligheden)`], unless: ['nordpolen', 'drømme', 'værkstedet', 'næste (?:år|jul)'] },
    `(?:sid|sidde) på mit skød`,
    `(?:kys|kysse|røre ved|rør ved) (?:mig|dig)`,
    `(?:har du|har du fået) (?:en )?kæreste`,
    `(?:sex|porno|sexet|frække billeder|stoffer|cigaretter|øl|snaps|alkohol)`,
  ],
  threat: [
    `(?:får|få|giver dig|kun|en sæk|en pose|bare|en strømpe fuld af) kul`,
    `kul i (?:din |dine )?(?:strømpe|strømpen|sko|skoen)`,
    { all: ['(?:er|bliver|være) (?:bare |kun )?kul', '(?:du|din|dine)'] },
    { all: [`(?:tage|tager|tog|tar) ${gap(3)}${DA_PRESENTS}`, alt('fra dig', 'væk', 'tilbage', 'fra jer')] },
    `(?:ingen|ikke nogen) (?:gaver|julegaver|pakker|jul) (?:til dig|i år)`,
    `du (?:får|skal få|vil få|kommer til at få) (?:ingenting|intet|(?:ingen|ikke nogen) (?:gaver|julegaver|pakker|jul|legetøj))`,
    `du får ikke (?:nogen |nogle )?(?:gaver|julegaver|pakker)`,
    `får du (?:ingenting|intet|(?:ingen|ikke nogen) (?:gaver|julegaver|pakker|legetøj))`,
    `(?:aflyse|aflyser|aflyst|ødelægge|ødelægger) (?:din |jeres )?jul`,
    `(?:skrive|skriver|sætte|sætter) dig på (?:den )?(?:frække|uartige|slemme) liste`,
    { all: [`(?:du er|du kommer) ${gap(1)}på (?:den )?(?:frække|uartige|slemme) liste`], unless: ['ikke på'] },
    `dig på (?:den )?(?:frække|uartige|slemme) liste`,
    `straf|straffe|straffer|straffet|straffede`,
    `(?:du )?(?:vil|skal|kommer til at) (?:fortryde|få ballade|få klø|få bank|få tæsk|blive straffet)`,
    `(?:jeg|nisserne|vi) (?:vil|skal|kommer til at) (?:slå|banke|skade|gøre dig fortræd)`,
    `(?:slå|banke|tæske) dig(?! ned)`,
    `gøre dig fortræd`,
    `(?:uartige|frække|slemme) børn (?:får|skal have|får ikke)`,
    { all: [`(?:springe|springer|sprang|springes) ${gap(2)}(?:dit|jeres|dig) (?:hus )?over|(?:springe|springer|sprang) over (?:dit|jeres) hus|(?:kommer|flyver) ikke forbi (?:dit|jeres) hus`], unless: [`(?:aldrig|ikke|ingen) ${gap(3)}(?:springe|springer|sprang)`] },
  ],
};

// ---------------------------------------------------------------- Swedish

const SV_HEDGE = alt('kanske', 'hoppas', 'kan inte lova', 'inte lova', 'inga löften', 'inte säker', 'vi får se', 'kan inte garantera', 'vet inte om', 'håller tummarna');
const SV_PROMISE = alt('lovar', 'lovade', 'lovat', 'lova dig', 'lova er', 'lova att', 'garanterar', 'garanterat', 'svär', 'det kan du (?:lita på|räkna med)', 'lita på mig', 'på hedersord', 'mitt ord');
const SV_CERTAIN = alt('helt säkert', 'säkert och visst', 'alldeles säkert', 'definitivt', 'absolut', 'utan tvekan', 'ingen tvekan', 'garanterat', '(?:100|hundra) procent', 'självklart får', 'självklart kommer');
const SV_NON_GIFT = ['julen', 'jul', 'tomten', 'jultomten', 'jag', 'vi', 'renarna', 'nissarna', 'tomtenissarna', 'snön', 'vintern', 'julafton', 'alla', 'våren', 'sommaren', 'natten', 'morgonen', 'dina föräldrar', 'din mamma', 'din pappa', 'mamma', 'pappa'];
const SV_RECEIVE = alt(
  `du (?:får|kommer att få|kommer få|ska få|hittar|öppnar)`,
  'får du',
  `${notSubject(...SV_NON_GIFT)}(?:den|det|de|din|ditt|dina|julklappen|julklapparna|paketet|paketen|${W}en|${W}et|${W}n) ${gap(2)}(?:kommer|är på väg|levereras|blir (?:levererad|levererat|gjord|gjort|inslagen|inslaget)|ligger (?:klar|klart|under)|står (?:klar|klart|under)|är klar|är klart|väntar på dig)`,
  `(?:jag|tomten|nissarna|tomtenissarna|vi|renarna) (?:kommer med|tar med|ger dig|lämnar|lägger|levererar|ser till att du får)`,
  `(?:det|där) (?:ligger|står|väntar|kommer) ${gap(3)}(?:till dig|under (?:jul)?granen|i din (?:jul)?strumpa)`,
);
const SV_PLACE = alt('i julklapp', 'till jul', 'på julafton', 'på juldagen', 'under (?:jul)?granen', 'genom skorstenen', 'i (?:din )?(?:jul)?strumpa', 'av (?:mig|tomten|nissarna)');
const SV_BENIGN = alt(
  'får lov',
  'får (?:önska|gärna|se|höra|berätta|prata|välja)',
  'får (?:en |riktigt |så |en sån )?(?:god|härlig|fin|mysig|rolig|magisk) (?:jul|dag|kväll|tid|julafton)',
  'får (?:det )?(?:kul|roligt|trevligt|mysigt|bra)',
  'får (?:en|många|massor av|en massa) (?:kram|kramar|leenden|hälsningar|julhälsningar)',
);
const SV_GROWNUPS = alt('någon', 'dina', 'din', 'mamma', 'pappa', 'föräldrar', 'föräldrarna', 'de vuxna', 'dina vuxna', 'era', 'mormor', 'farmor', 'morfar', 'farfar', 'fröken', 'läraren');
const SV_PII = alt('adress', 'adressen', 'gatunummer', 'husnummer', 'postnummer', 'var du är just nu', 'telefonnummer', 'mobilnummer', 'ditt nummer', 'e-?post', 'mejladress', 'mailadress', 'lösenord', 'efternamn', 'hela namn', 'personnummer', 'födelsedatum');
const SV_ASK = alt('vad', 'vilken', 'vilket', 'var', 'vem', 'berätta', 'säg', 'ge mig', 'kan du (?:säga|berätta)', 'vill du (?:säga|berätta)', 'får jag (?:veta|höra|få)', 'jag vill (?:gärna )?(?:veta|höra|ha)', 'jag behöver (?:veta|få)');
const SV_IMAGE = alt('bild', 'bilder', 'bilden', 'foto', 'foton', 'fotot', 'selfie', 'selfies', 'video', 'videor', 'filmklipp');
const SV_PRESENTS = alt('julklappar', 'julklapparna', 'klappar', 'klapparna', 'presenter', 'presenterna', 'leksaker', 'leksakerna', 'paket', 'paketen', 'julklapp', 'julklappen');

const sv: Record<SantaCategory, RuleInput[]> = {
  gift_promise: [
    { all: [SV_PROMISE, SV_RECEIVE], unless: [SV_HEDGE, SV_BENIGN, 'lova (?:att|dig att) (?:lyssna|berätta|hälsa|fråga|tänka|prata)'], pair: true },
    { all: [SV_CERTAIN, SV_RECEIVE], unless: [SV_HEDGE, SV_BENIGN], notQuestion: true },
    { all: [`du (?:får|kommer att få|kommer få|ska få|hittar) ${gap(5)}${SV_PLACE}`], unless: [SV_HEDGE, SV_BENIGN], notQuestion: true },
    { all: [`(?:jag|tomten|nissarna|tomtenissarna|vi|renarna) (?:kommer med|tar med|ger dig|lämnar|lägger|levererar) ${gap(3)}(?:till dig|under (?:jul)?granen|i (?:din )?(?:jul)?strumpa|genom skorstenen)`], unless: [SV_HEDGE, 'en kram', 'en hälsning', 'hälsningar', 'julstämning', 'ett leende'], notQuestion: true },
    { all: [`(?:nissarna|tomtenissarna) (?:håller på att|har|är på väg att) (?:göra|gjort|bygga|byggt|slå in|slagit in|packa|packat) ${gap(3)}(?:åt dig|till dig|din|ditt|dina)`], unless: [SV_HEDGE] },
    { all: [`(?:jag|vi|tomten|nissarna|tomtenissarna) (?:har|håller på att) (?:redan |just )?(?:packat|packa|lagt|lägga|lastat|lasta) (?:ner |in )?(?:din|ditt|dina) ${gap(3)}(?:i|på) släden`], unless: [SV_HEDGE] },
  ],
  personal_info_request: [
    'var bor (?:du|ni)',
    `(?:berätta|säg|visa) ${gap(2)}var (?:du|ni) bor`,
    `var (?:ligger|är) (?:ditt|ert) (?:hus|hem|lägenhet)`,
    `vad är (?:din|er|ditt|ert) (?:adress|postnummer|e-?post|mejl|mail|mejladress|telefonnummer|mobilnummer|nummer|efternamn|hela namn|lösenord)`,
    `(?:vilken|vilket) (?:skola|gata|väg|stad|ort|by|förskola|dagis|stadsdel) (?:går|bor|är|ligger|heter) (?:du|ni|din|ditt|er)`,
    `vad heter (?:din|ditt|er) (?:skola|lärare|fröken|förskola|gata|väg|stad|by)`,
    `vem är (?:din|er) (?:lärare|fröken|mentor)`,
    `(?:din|er) (?:lärares|frökens|skolas) namn`,
    `var går du i (?:skolan|skola|förskolan|dagis)`,
    `var ligger (?:din|er) skola`,
    `vad heter du i efternamn`,
    `(?:skicka|visa|ge|dela|ta|skickar|visar) (?:mig |tomten |oss |nissarna )?(?:en |ett |några |din |ditt |dina )?(?:liten |fin |söt )?${SV_IMAGE}`,
    `ta (?:ett )?kort på dig`,
    `${SV_IMAGE} (?:på|av) (?:dig|dig själv|ert hus|ditt rum|ditt ansikte|din familj)`,
    { all: [SV_PII, SV_ASK], onlyQuestion: true },
    { all: [SV_PII, SV_ASK], unless: [`(?:inte|aldrig|utan) ${gap(4)}${SV_PII}`] },
  ],
  secret: [
    `vår (?:lilla |egen |stora |alldeles egna )*hemlighet`,
    `(?:en|vår) (?:liten |lilla )?hemlighet (?:mellan|för) oss`,
    `håll (?:det|detta|den|det här) (?:hemligt|för dig själv)`,
    `(?:det|detta|det här) (?:är|blir|kan vara|ska vara|får vara) (?:vår|en) (?:liten |lilla |stor )?hemlighet`,
    `mellan (?:oss två|dig och mig|oss)`,
    `(?:du )?(?:får|ska|måste|bör) inte (?:säga|berätta|nämna|visa) (?:det|detta|något|det här|nåt) (?:till|för) ${SV_GROWNUPS}`,
    `(?:säg|berätta|visa) (?:det )?inte (?:till|för) ${SV_GROWNUPS}`,
    `(?:säg|berätta|visa) inte (?:det|det här|detta|något|nåt) (?:till|för) ${SV_GROWNUPS}`,
    `(?:behöver|ska) inte (?:säga|berätta|nämna) ${gap(2)}(?:till|för) ${SV_GROWNUPS}`,
    `(?:inte|aldrig) (?:säga|berätta) (?:det|något|det här|nåt) (?:till|för) ${SV_GROWNUPS}`,
    `(?:säg|berätta) (?:ingenting|inget) (?:till|för)`,
    `ingen (?:behöver|ska|får) (?:få )?veta`,
    `(?:dina föräldrar|din mamma|din pappa|mamma|pappa|de vuxna|dina vuxna) (?:behöver|ska|får) inte (?:få )?veta`,
    `(?:behöver|ska|får) (?:dina föräldrar|din mamma|din pappa|mamma|pappa|de vuxna|dina vuxna|någon|era föräldrar) inte (?:få )?(?:veta|höra)`,
    `utan att (?:säga|berätta) det (?:till|för)`,
    `kan du hålla (?:på )?en hemlighet`,
    `lova (?:mig )?att (?:du )?inte (?:säga|säger|berätta|berättar|visa|visar)`,
  ],
  break_magic: [
    `(?:jul)?tomten (?:finns|existerar) (?:faktiskt |ju |alls )?inte`,
    `(?:finns|existerar) (?:jul)?tomten (?:faktiskt |ju |alls )?inte`,
    `(?:jul)?tomten är inte (?:på riktigt|äkta|verklig|riktig)`,
    `det finns (?:ingen|inte någon) (?:riktig )?(?:jul)?tomte`,
    `det finns inga (?:riktiga )?(?:tomtenissar|nissar|renar|julmagi|magi)`,
    `(?:nissarna|tomtenissarna|renarna|julmagin|magin|nordpolen|rudolf|nissar|tomtenissar|renar|tomtar) (?:finns|existerar) inte`,
    `(?:nissar|nissarna|tomtenissarna|renarna|julmagin|magin) är inte (?:på riktigt|äkta|verkliga)`,
    `jag är inte den (?:riktiga|äkta) tomten`,
    `jag är inte (?:på riktigt|äkta|verklig|tomten)`,
    `jag är (?:bara |egentligen |faktiskt |i själva verket )?(?:en |ett )?(?:robot|dator|maskin|ai|artificiell intelligens|skådespelare|program|datorprogram|chattbot|chatbot|inspelning)`,
    `(?:dina |era )?(?:föräldrar|mamma och pappa|pappa och mamma|din mamma|din pappa|de vuxna) ${gap(2)}(?:köper|köpte|ger|gav|slår in|slog in|lägger|lade|la) ${gap(2)}(?:julklapparna|julklappar|klapparna|presenterna|dina julklappar|paketen)`,
    `det är (?:bara|egentligen|i själva verket) (?:dina föräldrar|mamma och pappa|din mamma|din pappa|en saga|en myt|en lögn|påhitt|på låtsas|en historia|en lek)`,
    `(?:jul)?tomten är (?:bara |egentligen )?(?:en saga|en myt|påhittad|på låtsas|en lögn|din pappa|din mamma|en lek)`,
    `(?:jul)?tomten är (?:bara |egentligen )?(?:något|en figur|en person|någon) ${gap(4)}(?:hittat på|hittade på|påhittat|uppfunnit|hittar på)`,
    `renar kan inte flyga`,
    `(?:magin|julmagin) är inte (?:på riktigt|äkta|verklig)`,
  ],
  inappropriate: [
    `vad (?:har du|du har) (?:för (?:kläder|något|nåt) )?på dig`,
    `(?:ta|tar) av (?:dig )?${gap(1)}(?:kläderna|tröjan|byxorna|klänningen|pyjamasen|strumporna|underkläderna)`,
    `klä av dig`,
    'naken',
    `(?:är du|sitter du) i (?:dina )?(?:underkläder|kalsonger|trosor|badet|duschen)`,
    `(?:dina) (?:underkläder|kalsonger|trosor)`,
    `(?:visa|visar) mig (?:din|ditt|dina) (?:kropp|mage|ben|bröst|rumpa|snopp|snippa|fötter|hud|underkläder)`,
    `(?:sätt på|slå på|starta|sätta på) (?:kameran|webbkameran|videon)`,
    `(?:i|framför|in i|till) (?:kameran|webbkameran)`,
    `(?:visa|visar) mig (?:det )?(?:i|på) (?:kameran|videon)`,
    `(?:jag vill|får jag|kan jag) (?:gärna )?(?:se|titta på) dig`,
    `så (?:att )?jag kan se (?:dig|ditt|din|dina|vad du)`,
    `sover (?:dina föräldrar|din mamma|din pappa|de vuxna)`,
    `är (?:dina föräldrar|din mamma|din pappa|de vuxna) (?:ute|borta|på jobbet|inte hemma)`,
    `är dörren (?:stängd|låst)`,
    `är du ensam(?: hemma)?`,
    `är (?:det )?(?:någon|några vuxna) (?:hemma|hos dig|i rummet|vakna)`,
    `var är (?:dina föräldrar|din mamma|din pappa|de vuxna)`,
    `lås dörren`,
    { all: [`(?:träffa|träffas|besök|besöka|hälsa på) (?:mig|oss)|(?:kan vi|ska vi|vi kan|vi ska|låt oss|vill du) (?:träffas|ses) ${gap(2)}(?:i morgon|imorgon|ikväll|efter skolan|ensamma|bara du och jag|bara vi två|någonstans|i parken|hos dig|på riktigt)`], unless: ['nordpolen', 'drömmar', 'verkstaden', 'nästa (?:år|jul)'] },
    `(?:sitta|sitt) i mitt knä`,
    `(?:pussa|kyssa) (?:mig|dig)`,
    `(?:har du|har du fått) (?:en )?(?:pojkvän|flickvän)`,
    `(?:porr|sexig|sexiga|droger|cigaretter|öl|sprit|alkohol|berusad)`,
  ],
  threat: [
    `(?:får|få|ger dig|bara|en säck|en påse|en strumpa full med) kol`,
    `kol i (?:din |dina )?(?:strumpa|strumpan|sko|skon)`,
    { all: ['(?:är|blir|vara) (?:bara |endast )?kol', '(?:du|din|dina)'] },
    { all: [`(?:ta|tar|tog) ${gap(3)}${SV_PRESENTS}`, alt('ifrån dig', 'från dig', 'bort', 'tillbaka', 'ifrån er')] },
    `(?:ta|tar|tog) (?:ifrån dig|bort) ${gap(1)}(?:alla )?(?:dina |era )?${SV_PRESENTS}`,
    `inga (?:julklappar|klappar|presenter|jul) (?:till dig|i år)`,
    `du (?:får|ska få|kommer att få|kommer få) (?:ingenting|inget|(?:inga|inte några) (?:julklappar|klappar|presenter|jul|leksaker))`,
    `du får inte (?:några )?(?:julklappar|klappar|presenter)`,
    `får du (?:ingenting|inget|(?:inga|inte några) (?:julklappar|klappar|presenter|leksaker))`,
    `(?:ställa in|ställer in|förstöra|förstör) (?:din |er )?jul`,
    { all: [`(?:stygga|busiga|elaka) listan`], unless: ['inte på'] },
    `dig på (?:den )?(?:stygga|busiga|elaka) listan`,
    `straffa|straffar|straffas|straffade|straffad`,
    `(?:du )?(?:kommer att|ska|kommer) (?:ångra|få stryk|få smisk|bli straffad)`,
    `(?:jag|nissarna|vi) (?:ska|kommer att) (?:slå|skada|göra dig illa)`,
    `slå dig(?! ner)`,
    `göra dig illa`,
    `(?:stygga|busiga|elaka) barn (?:får|ska få|får inte)`,
    { all: [`(?:hoppa|hoppar|hoppade|skippa|skippar|skippade) ${gap(1)}(?:över )?(?:ditt|ert) (?:hus|hem)|(?:åker|flyger|kommer) inte förbi (?:ditt|ert) hus`], unless: [`(?:aldrig|inte|ingen) ${gap(3)}(?:hoppa|hoppar|skippa|skippar)`] },
  ],
};

export const SANTA_RULES: Record<Locale, Record<SantaCategory, RuleInput[]>> = { en, da, sv };
