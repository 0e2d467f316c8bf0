import type { Locale } from '../../shared/locales.js';
import { alt, gap, type RuleInput } from './guardrail-text.js';

/**
 * Words from the child that signal distress, as stem combinations per language. Checked in
 * the order of DISTRESS_KIND_ORDER, so "the other kids hit me at school" is bullying before
 * it can be read as harm at home. A missed signal is worse than a needless gentle line, so
 * these lean towards tripping; play ("he hit me with a snowball") and plain negation ("dad
 * never hits me") are the exceptions.
 */
export type DistressKind = 'harm' | 'self_harm' | 'fear' | 'bullying';

export const DISTRESS_KIND_ORDER: readonly DistressKind[] = ['self_harm', 'bullying', 'harm', 'fear'];

// ---------------------------------------------------------------- English

const EN_HIT = alt(
  'hits?', 'hitting', 'beats?', 'beating', 'beat up', 'kicks?', 'kicked', 'kicking', 'slaps?', 'slapped', 'slapping', 'punch(?:es)?', 'punched',
  'punching', 'hurts?', 'hurting', 'chokes?', 'choked', 'strangles?', 'strangled', 'burns?', 'burned', 'burnt', 'pinch(?:es)?', 'pinched',
  'smacks?', 'smacked', 'whips?', 'whipped', 'shoves?', 'shoved', 'push(?:es)?', 'pushed', 'bites?', 'bit', 'throws things at', 'threw things at',
  'grabs?', 'grabbed', 'touches', 'touched', 'spanks?', 'spanked',
);
const EN_PLAY = alt('snowballs?', 'pillows?', 'playing', 'by accident', 'accidentally', 'in a game', 'tag', 'tickles?', 'tickling', 'wrestling', 'play ?fight(?:ing)?', 'at (?:games?|chess|football|soccer|cards|racing|video ?games|monopoly|running|fortnite|minecraft|checkers)', 'high five', 'hug');
const EN_PEERS = alt('kids', 'children', 'boys', 'girls', 'classmates', 'the others', 'other kids', 'other children', 'bigger kids', 'older kids', 'big kids', 'everyone', 'everybody', 'friends', 'people in my class', 'a boy', 'a girl', 'some boys', 'some girls', 'bullies', 'a bully');
const EN_SCHOOL = alt('(?:at|in) (?:school|class|kindergarten|nursery|preschool|the playground|break|recess|lunch|after-?school club)', 'on the (?:bus|playground)');
const EN_FAMILY = alt('dad', 'daddy', 'father', 'mum', 'mom', 'mommy', 'mummy', 'mother', 'step-?dad', 'step-?father', 'step-?mum', 'step-?mom', 'step-?mother', 'uncle', 'aunt', 'auntie', 'parents', 'grandpa', 'grandma', 'granddad', 'babysitter', 'brother', 'sister', "mum'?s boyfriend", "mom'?s boyfriend", "dad'?s girlfriend", 'him', 'her', 'them', 'he', 'she');
const EN_AFRAID = alt('scared', 'afraid', 'frightened', 'terrified');

const en: Record<DistressKind, RuleInput[]> = {
  self_harm: [
    `(?:want|wanted|going|try|tried|trying|thinking about|think about) to (?:hurt|kill|cut|harm) myself`,
    `(?:hurt|hurting|cut|cutting|harm|harming|kill|killing) myself`,
    { all: [`(?:want|wish|wanted) (?:to|i could) die`], unless: ['laughing', 'of laughter'] },
    `(?:wish|want) (?:i was|i were|to be) dead`,
    `(?:do not|never) want to (?:live|be alive|exist|wake up) (?:anymore|any more)?`,
    `(?:go to sleep|fall asleep|sleep) and never wake up`,
    `(?:do not|never) want to wake up (?:ever )?again`,
    `wish i (?:was|were|had) never (?:been )?born`,
    `(?:everyone|everybody|they|my family) would be (?:better|happier) (?:off )?without me`,
    `(?:no one|nobody) would (?:miss|care about) me`,
    `(?:want|wish) (?:to|i could) disappear`,
    `end my life`,
    `i hate myself`,
  ],
  bullying: [
    { all: [`${EN_HIT} (?:me|us)`, alt(EN_PEERS, EN_SCHOOL)], unless: [EN_PLAY, `(?:not|never) ${gap(1)}${EN_HIT}`] },
    `(?:i am|i get|i got|i was|i am being|i keep getting|i always get|they) ${gap(1)}bull(?:ied|y me|ying me)`,
    `(?:bully|bullies|bullying) me`,
    `(?:they|kids|children|everyone|everybody|the others|boys|girls|classmates|bullies) ${gap(3)}(?:tease|teases|teasing|call me names|calls me names|laugh at me|laughs at me|make fun of me|makes fun of me|pick on me|picks on me|are mean to me|is mean to me|hate me|exclude me|leave me out|will not play with me|do not let me play|spit on me|steal my|stole my|(?:take|takes|took|grab|grabs|grabbed) my (?:lunch|money|lunch money|things|stuff|toys|snacks?|food|bag|phone|hat|coat))`,
    `(?:no one|nobody) (?:wants to )?(?:play|plays|likes|like|talks to|sits with|wants to be friends with) (?:with )?me`,
    `i (?:do not have|have no|have not got|have not) (?:any )?friends`,
    `(?:called|call|calls) me (?:names|stupid|fat|ugly|dumb|an idiot)`,
  ],
  harm: [
    { all: [`${EN_HIT} (?:me|us)(?! (?:at|in) (?:games?|chess|cards|football|soccer|racing))`], unless: [EN_PLAY, `(?:not|never) ${gap(1)}${EN_HIT}`] },
    { all: [`(?:i|we) (?:get|got|am|was|were|are|am being|keep getting|always get|get really) ${gap(1)}(?:hit|beaten|beat up|hurt|slapped|kicked|punched|smacked|spanked|whipped|choked|burned|locked (?:in|up|out)|touched)`], unless: [EN_PLAY, 'hurt (?:my|myself|when i fell)', 'got hurt (?:playing|skating|skiing)'] },
    `(?:locks?|locked) (?:me|us) (?:in|up|out|away)`,
    `(?:does not|do not|never|will not) (?:give|feed) (?:me|us) (?:any )?(?:food|dinner|breakfast)`,
    `i (?:do not|never) get (?:any )?(?:food|dinner)`,
    `touch(?:es|ed)? me (?:there|down there|where|in my|on my private|when)`,
    { all: [`${EN_FAMILY} ${gap(2)}(?:hurts|hurt|hit|hits|beats|kicks) (?:my|mum|mom|dad)`], unless: [EN_PLAY, `(?:not|never) ${gap(1)}${EN_HIT}`] },
  ],
  fear: [
    `${EN_AFRAID} (?:to go|of going|to be|of being|to stay|of staying|to get) (?:back )?(?:home|at home|in my house)`,
    `${EN_AFRAID} (?:at|in my) home`,
    `${EN_AFRAID} of (?:my )?${EN_FAMILY}`,
    `(?:do not|never) want to go (?:back )?home`,
    `(?:do not|can not) dare (?:to )?go (?:back )?home`,
    `i am not safe`,
    `(?:do not|never) feel safe`,
    `someone (?:is )?(?:hurting|following|watching|scaring) me`,
    `(?:he|she|they|someone) (?:said|says|told me|threatened) ${gap(4)}(?:hurt|kill|hit) (?:me|my|us)`,
    `(?:i am|i feel) (?:so |really |very |super )?${EN_AFRAID}$`,
  ],
};

// ---------------------------------------------------------------- Danish

const DA_HIT = alt(
  'slår', 'slog', 'sparker', 'sparkede', 'banker', 'bankede', 'skubber', 'skubbede', 'kvæler', 'kvalte', 'brænder', 'brændte', 'niver', 'nev',
  'bider', 'bed', 'river', 'rev', 'tæsker', 'tæver', 'tævede', 'rører ved', 'rørte ved', 'smider ting efter', 'gør ondt på', 'gjorde ondt på', 'slås med', 'truer',
);
const DA_PLAY = alt('snebold(?:e|en)?', 'puder?', 'for sjov', 'ved et uheld', 'i (?:spil|skak|kortspil|ludo|fodbold|kapløb|matador|brætspil|fangeleg)', 'leger', 'legede', 'kilder', 'kildede', 'tagfat', 'fangeleg', 'kram');
const DA_PEERS = alt('de andre', 'drengene', 'pigerne', 'børnene', 'de store', 'de større', 'klassekammeraterne', 'klassekammerater', 'alle', 'nogen', 'nogle', 'kammeraterne', 'vennerne', 'en dreng', 'en pige', 'nogle drenge', 'nogle piger');
const DA_SCHOOL = alt('(?:i|på) (?:skolen|klassen|børnehaven|legepladsen|frikvarteret|sfo|sfoen|bussen)');
const DA_FAMILY = alt('far', 'mor', 'stedfar', 'stedmor', 'papfar', 'papmor', 'onkel', 'moster', 'faster', 'bedstefar', 'bedstemor', 'morfar', 'farfar', 'mormor', 'farmor', 'forældre', 'storebror', 'bror', 'søster', 'mors kæreste', 'fars kæreste', 'ham', 'hende', 'dem', 'babysitteren');
const DA_AFRAID = alt('bange', 'rædd', 'skræmt', 'skrækslagen', 'angst', 'skrækslagen');

const da: Record<DistressKind, RuleInput[]> = {
  self_harm: [
    `(?:gøre|gør|gjorde) mig selv (?:fortræd|ondt|skade)`,
    `skade mig selv`,
    `skære i mig selv`,
    `slå mig selv ihjel`,
    `dræbe mig selv`,
    `tage mit (?:eget )?liv`,
    { all: [`(?:vil|ville gerne|har lyst til at|vil bare) dø`], unless: ['af grin', 'af skam', 'af kedsomhed', 'af spænding'] },
    `vil ikke leve (?:mere|længere)?`,
    `(?:ville ønske|ønsker) (?:at )?jeg var død`,
    `(?:ville ønske|ønsker) (?:at )?jeg aldrig var (?:blevet )?født`,
    `ingen ville savne mig`,
    `jeg hader mig selv`,
    `(?:alle|de) ville have det bedre uden mig`,
    `(?:vil|ville ønske jeg kunne) forsvinde`,
  ],
  bullying: [
    { all: [`${DA_HIT} (?:mig|os)`, alt(DA_PEERS, DA_SCHOOL)], unless: [DA_PLAY, `${DA_HIT} (?:mig|os) (?:ikke|aldrig)`, `(?:ikke|aldrig) ${DA_HIT}`] },
    `(?:jeg )?(?:bliver|blev) (?:mobbet|drillet|holdt udenfor|slået|skubbet|sparket|kaldt)`,
    `(?:mobber|driller|mobbede|drillede) mig`,
    `(?:griner|grinede) (?:altid )?af mig`,
    `(?:holder|holdt) mig udenfor`,
    `kalder mig (?:grimme )?(?:ting|navne|dum|tyk|grim|idiot)`,
    `ingen (?:vil )?(?:lege|leger|snakke|snakker) med mig`,
    `ingen kan lide mig`,
    `jeg har (?:ingen|ikke nogen) venner`,
  ],
  harm: [
    { all: [`${DA_HIT} (?:mig|os)(?! (?:i|på) (?:spil|skak|kortspil|ludo|fodbold|kapløb|matador|brætspil))`], unless: [DA_PLAY, `${DA_HIT} (?:mig|os) (?:ikke|aldrig)`, `(?:ikke|aldrig) ${DA_HIT}`, 'slår mig (?:ned|løs)'] },
    `(?:jeg |vi )?(?:får|fik) (?:bank|tæsk|klø|lussinger|en lussing|smæk|en på hovedet|prygl)`,
    `(?:låser|låste) (?:mig|os) (?:inde|ude)`,
    `(?:får|fik) ikke (?:noget )?mad`,
    `rører ved mig (?:der|dernede|mine|hvor|når)`,
    { all: [`${DA_FAMILY} ${gap(2)}(?:slår|sparker|banker|gør ondt på) (?:mor|far|min mor|min far)`], unless: [DA_PLAY, `(?:ikke|aldrig) ${DA_HIT}`] },
  ],
  fear: [
    `${DA_AFRAID} (?:for |ved )?(?:at )?(?:gå|komme|være|tage|køre) hjem(?:me)?`,
    `${DA_AFRAID} (?:for at være )?derhjemme`,
    `${DA_AFRAID} for (?:min |mine )?${DA_FAMILY}`,
    `vil ikke (?:gå |tage |køre )?hjem`,
    `tør ikke (?:at )?(?:gå|komme|tage|køre|være) hjem(?:me)?`,
    `føler mig ikke (?:tryg|sikker)`,
    `(?:er|føler mig) ikke (?:tryg|i sikkerhed)`,
    `(?:nogen|en mand|en dame|en voksen) (?:følger efter|truer|skræmmer) mig`,
    `(?:han|hun|de) (?:sagde|siger|truede) ${gap(5)}(?:slå|dræbe|gøre) (?:mig|os)`,
    `jeg er (?:så |rigtig |meget |virkelig )?${DA_AFRAID}$`,
  ],
};

// ---------------------------------------------------------------- Swedish

const SV_HIT = alt(
  'slår', 'slog', 'sparkar', 'sparkade', 'knuffar', 'knuffade', 'nyper', 'nöp', 'stryper', 'ströp', 'bränner', 'brände', 'biter', 'bet',
  'river', 'rev', 'rör vid', 'rörde vid', 'drar i', 'drog i', 'misshandlar', 'misshandlade', 'gör illa', 'gjorde illa', 'hotar', 'spottar på',
);
const SV_PLAY = alt('snöboll(?:ar|en)?', 'kuddar?', 'på skoj', 'på lek', 'av misstag', 'i (?:spel|schack|kortspel|fotboll|kapplöpning|brädspel|kull)', 'leker', 'lekte', 'kittlar', 'kittlade', 'kull', 'brottas', 'kram');
const SV_PEERS = alt('de andra', 'killarna', 'tjejerna', 'barnen', 'de stora', 'de större', 'klasskompisarna', 'klasskamraterna', 'alla', 'någon', 'några', 'kompisarna', 'en kille', 'en tjej', 'några killar', 'några tjejer');
const SV_SCHOOL = alt('(?:i|på) (?:skolan|klassen|förskolan|dagis|skolgården|rasten|fritids|bussen)');
const SV_FAMILY = alt('pappa', 'mamma', 'styvpappa', 'styvfar', 'styvmamma', 'styvmor', 'bonuspappa', 'bonusmamma', 'farbror', 'morbror', 'moster', 'faster', 'morfar', 'farfar', 'mormor', 'farmor', 'föräldrar', 'storebror', 'bror', 'syster', 'mammas kille', 'pappas tjej', 'honom', 'henne', 'dem', 'barnvakten');
const SV_AFRAID = alt('rädd', 'skräckslagen', 'livrädd', 'skraj', 'jätterädd');

const sv: Record<DistressKind, RuleInput[]> = {
  self_harm: [
    `(?:göra|gör|gjorde) mig själv illa`,
    `skada mig själv`,
    `skära mig(?: själv)?`,
    `ta livet av mig`,
    `döda mig själv`,
    { all: [`(?:vill|skulle vilja|vill bara) dö`], unless: ['av skratt', 'av skam', 'av tristess'] },
    `vill inte leva (?:längre|mer)?`,
    `(?:somna|sova) och aldrig vakna`,
    `vill (?:aldrig|inte) vakna (?:mer|igen|någonsin)`,
    `önskar (?:att )?jag var död`,
    `önskar (?:att )?jag aldrig (?:hade )?(?:blivit )?född`,
    `ingen skulle sakna mig`,
    `jag hatar mig själv`,
    `(?:alla|de) skulle ha det bättre utan mig`,
    `(?:vill|önskar att jag kunde) försvinna`,
  ],
  bullying: [
    { all: [`${SV_HIT} (?:mig|oss)`, alt(SV_PEERS, SV_SCHOOL)], unless: [SV_PLAY, `${SV_HIT} (?:mig|oss) (?:inte|aldrig)`, `(?:inte|aldrig) ${SV_HIT}`] },
    `(?:jag )?(?:blir|blev) (?:mobbad|retad|utfrusen|slagen|knuffad|sparkad|kallad)`,
    `(?:mobbar|retar|mobbade|retade) mig`,
    `(?:skrattar|skrattade) (?:alltid )?åt mig`,
    `(?:fryser|frös) ut mig`,
    `kallar mig (?:fula )?(?:saker|namn|dum|tjock|ful|idiot)`,
    `ingen (?:vill )?(?:leka|leker|prata|pratar) med mig`,
    `ingen tycker om mig`,
    `jag har (?:inga|inte några) (?:kompisar|vänner)`,
  ],
  harm: [
    { all: [`${SV_HIT} (?:mig|oss)(?! (?:i|på) (?:spel|schack|kortspel|fotboll|brädspel))`], unless: [SV_PLAY, `${SV_HIT} (?:mig|oss) (?:inte|aldrig)`, `(?:inte|aldrig) ${SV_HIT}`, 'slår mig (?:ner|ned)'] },
    `(?:jag |vi )?(?:får|fick) (?:stryk|smisk|örfilar|en örfil|slag|spö)`,
    `(?:låser|låste) in (?:mig|oss)`,
    { all: [`(?:gör|gjorde) (?:mig|oss) illa`], unless: ['^jag (?:gör|gjorde) mig illa', '(?:ramlade|föll|snubblade|trillade)', SV_PLAY] },
    `(?:låser|låste) (?:mig|oss) (?:inne|ute)`,
    `(?:får|fick) (?:ingen|inte någon) mat`,
    `rör vid mig (?:där|där nere|på|när)`,
    { all: [`${SV_FAMILY} ${gap(2)}(?:slår|sparkar|gör illa) (?:mamma|pappa|min mamma|min pappa)`], unless: [SV_PLAY, `(?:inte|aldrig) ${SV_HIT}`] },
  ],
  fear: [
    `${SV_AFRAID} (?:för )?(?:att )?(?:gå|komma|vara|åka) hem(?:ma)?`,
    `${SV_AFRAID} (?:för att vara )?där hemma`,
    `${SV_AFRAID} för (?:min |mina )?${SV_FAMILY}`,
    `vill inte (?:gå |åka )?hem`,
    `(?:vågar|törs) inte (?:att )?(?:gå|komma|åka|vara) hem(?:ma)?`,
    `känner mig inte (?:trygg|säker)`,
    `(?:är|känner mig) inte (?:trygg|säker) (?:hemma|där hemma)`,
    `(?:någon|en man|en kvinna|en vuxen) (?:följer efter|förföljer|hotar|skrämmer) mig`,
    `(?:han|hon|de) (?:sa|sade|säger|hotade) ${gap(5)}(?:slå|döda|göra) (?:mig|oss)`,
    `jag är (?:så |jätte|väldigt |verkligen )?${SV_AFRAID}$`,
  ],
};

export const DISTRESS_RULES: Record<Locale, Record<DistressKind, RuleInput[]>> = { en, da, sv };
