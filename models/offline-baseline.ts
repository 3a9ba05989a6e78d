/**
 * Offline baseline for the keyword-correctness example.
 *
 * This is a heuristic, NOT a model. It stands in for a chat model so that the example builds,
 * caches and scores on a machine with no network and no API key, and its numbers are real
 * measurements of this heuristic, nothing more. It reads the prompt the way a person skimming
 * it would:
 *
 * - A describe prompt (no keyword list) gets a plain description assembled from the attributes
 *   listed in the prompt and the dominant colour of the attached image. A prompt that asks for
 *   a "detailed" description gets every attribute; otherwise only the mandatory ones.
 * - A validate prompt (a "Keywords …:" list) gets a JSON array scoring each keyword 0–10 by how
 *   many of its words the description and attributes support, minus a penalty for words that
 *   conflict with them (a colour, material, gender, occasion, pattern or quantity other than the
 *   product's). Strict wording in the prompt lowers every score; lenient wording raises it.
 *
 * It is deterministic, never throws (odd input gets a best-effort answer), estimates tokens as
 * ceil(characters / 4), and wraps its answer in a JSON object only when the request asks for
 * `response_format: json_object`.
 *
 * The chat types are declared here rather than imported so that the file can be copied into
 * another project as it is; they match the OpenAI chat-completions shapes kwgraph sends.
 */
import sharp from 'sharp';

type ContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image_url'; readonly image_url: { readonly url: string } };

interface ChatRequest {
  readonly model: string;
  readonly messages: readonly {
    readonly role: 'system' | 'user' | 'assistant';
    readonly content: string | readonly ContentPart[];
  }[];
  readonly response_format?: { readonly type: 'text' | 'json_object' };
}

interface ChatResponse {
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly message: { readonly role: 'assistant'; readonly content: string };
    readonly finish_reason: 'stop';
  }[];
  readonly usage: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
  };
}

export default async function complete(request: ChatRequest): Promise<ChatResponse> {
  const prompt = readPrompt(request);
  const asJson = readResponseFormat(request) === 'json_object';

  let content: string;
  try {
    content = await answer(prompt, asJson);
  } catch {
    content = asJson ? '{}' : '';
  }

  const promptTokens = Math.ceil(prompt.allText.length / 4) + IMAGE_TOKENS * prompt.images.length;
  const completionTokens = Math.ceil(content.length / 4);
  return {
    model: typeof request?.model === 'string' ? request.model : 'offline-baseline',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** What a low-detail image costs on OpenAI's vision models; base64 length means nothing. */
const IMAGE_TOKENS = 85;

// ---------------------------------------------------------------------------------------------
// Reading the request

interface Prompt {
  /** Every text part of every message: wording cues (strict, detailed) can be anywhere. */
  readonly allText: string;
  /** The text of the last user message: where the product data is. */
  readonly userText: string;
  /** Image URLs of the last user message. */
  readonly images: readonly string[];
}

/** Reads messages defensively: the request comes from outside and may be malformed. */
function readPrompt(request: unknown): Prompt {
  const messages = (request as { messages?: unknown } | null)?.messages;
  const list: unknown[] = Array.isArray(messages) ? messages : [];

  const texts: string[] = [];
  let userText = '';
  let images: string[] = [];
  for (const message of list) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    const parts: unknown[] = typeof content === 'string' ? [content] : arrayOr(content);
    const text = parts.map(partText).join('\n');
    texts.push(text);
    if (role === 'user') {
      userText = text;
      images = parts.map(partImage).filter((url): url is string => url !== undefined);
    }
  }

  const allText = texts.join('\n');
  return { allText, userText: userText === '' ? allText : userText, images };
}

function readResponseFormat(request: unknown): unknown {
  const format = (request as { response_format?: unknown } | null)?.response_format;
  return (format as { type?: unknown } | null | undefined)?.type;
}

function partText(part: unknown): string {
  if (typeof part === 'string') return part;
  const { type, text } = (part ?? {}) as { type?: unknown; text?: unknown };
  return type === 'text' && typeof text === 'string' ? text : '';
}

function partImage(part: unknown): string | undefined {
  const { type, image_url: image } = (part ?? {}) as { type?: unknown; image_url?: unknown };
  const url = (image as { url?: unknown } | null | undefined)?.url;
  return type === 'image_url' && typeof url === 'string' ? url : undefined;
}

function arrayOr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The parts of the product prompts: a description, attribute lists, a keyword list. */
interface Sections {
  readonly description: string;
  readonly mandatory: readonly NamedValue[];
  readonly other: readonly NamedValue[];
  readonly keywords: readonly string[];
}

interface NamedValue {
  readonly name: string;
  readonly value: string;
}

/**
 * Splits prompt text at headings: short lines ending in ":" that name a description, attributes
 * or keywords. Bullets ("- ...") under an attribute heading are `name: value` pairs; under a
 * keyword heading, keywords (split at nothing: a keyword may contain ":").
 */
function readSections(text: string): Sections {
  const description: string[] = [];
  const mandatory: NamedValue[] = [];
  const other: NamedValue[] = [];
  let keywords: string[] = [];
  let section: 'none' | 'description' | 'mandatory' | 'other' | 'keywords' = 'none';

  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    const heading = headingKind(line);
    if (heading !== undefined) {
      section = heading;
      // The last keyword list wins: instructions above it may show an example.
      if (heading === 'keywords') keywords = [];
      continue;
    }

    const bullet = /^[-*•]\s+(.*)$/.exec(line)?.[1]?.trim();
    if (section === 'description' && line !== '') description.push(line);
    if (bullet === undefined || bullet === '') continue;
    if (section === 'keywords') keywords.push(bullet);
    if (section === 'mandatory' || section === 'other') {
      const colon = bullet.indexOf(':');
      const pair =
        colon > 0
          ? { name: bullet.slice(0, colon).trim(), value: bullet.slice(colon + 1).trim() }
          : { name: '', value: bullet };
      (section === 'mandatory' ? mandatory : other).push(pair);
    }
  }
  return { description: description.join(' '), mandatory, other, keywords };
}

function headingKind(line: string): 'description' | 'mandatory' | 'other' | 'keywords' | undefined {
  if (!line.endsWith(':') || /^[-*•]/.test(line) || line.split(/\s+/).length > 10) {
    return undefined;
  }
  if (/keyword/i.test(line)) return 'keywords';
  if (/attribute/i.test(line)) return /mandatory/i.test(line) ? 'mandatory' : 'other';
  if (/description/i.test(line)) return 'description';
  return undefined;
}

async function answer(prompt: Prompt, asJson: boolean): Promise<string> {
  const sections = readSections(prompt.userText);

  if (sections.keywords.length > 0) {
    const judgements = judgeKeywords(sections, strictnessShift(prompt.allText));
    if (asJson) return JSON.stringify({ judgements });
    return `[\n${judgements.map((j) => JSON.stringify(j)).join(',\n')}\n]`;
  }

  const detailed = /\bdetailed\b|\bin detail\b/i.test(prompt.allText);
  const colour = prompt.images[0] === undefined ? undefined : await imageColour(prompt.images[0]);
  const description = describe(sections, colour, detailed);
  return asJson ? JSON.stringify({ description }) : description;
}

// ---------------------------------------------------------------------------------------------
// Describing a product

type Rgb = readonly [number, number, number];

/** A name for an image's dominant colour, with a broader family a longer text may mention. */
interface NamedColour {
  readonly name: string;
  readonly rgb: Rgb;
  readonly family?: string;
}

const PALETTE: readonly NamedColour[] = [
  { name: 'black', rgb: [30, 30, 30] },
  { name: 'white', rgb: [250, 250, 250] },
  { name: 'grey', rgb: [128, 128, 128] },
  { name: 'silver', rgb: [190, 190, 195], family: 'grey' },
  { name: 'red', rgb: [200, 30, 40] },
  { name: 'maroon', rgb: [120, 20, 40], family: 'red' },
  { name: 'pink', rgb: [235, 120, 160] },
  { name: 'orange', rgb: [240, 130, 30] },
  { name: 'yellow', rgb: [245, 210, 40] },
  { name: 'mustard', rgb: [200, 160, 30], family: 'yellow' },
  { name: 'green', rgb: [40, 150, 70] },
  { name: 'olive', rgb: [110, 120, 40], family: 'green' },
  { name: 'teal', rgb: [0, 128, 128], family: 'green' },
  { name: 'navy', rgb: [25, 35, 90], family: 'blue' },
  { name: 'blue', rgb: [40, 90, 200] },
  { name: 'purple', rgb: [110, 50, 150] },
  { name: 'lavender', rgb: [180, 160, 220], family: 'purple' },
  { name: 'brown', rgb: [120, 75, 40] },
  { name: 'beige', rgb: [215, 195, 160], family: 'brown' },
];

/**
 * The most common named colour among the image's non-background pixels (the background is
 * whatever colour the top-left corner has). Falls back to sharp's dominant colour when nothing
 * but background is left; undefined for images that are not data URLs or do not decode.
 */
async function imageColour(url: string): Promise<NamedColour | undefined> {
  const data = /^data:image\/[\w.+-]+;base64,(.+)$/s.exec(url)?.[1];
  if (data === undefined) return undefined;

  try {
    const image = sharp(Buffer.from(data, 'base64')).flatten({ background: '#ffffff' });
    const { data: pixels, info } = await image
      .clone()
      .resize(64, 64, { fit: 'inside', kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });

    const step = info.channels;
    const background: Rgb = [pixels[0] ?? 0, pixels[1] ?? 0, pixels[2] ?? 0];
    const counts = new Map<NamedColour, number>();
    for (let i = 0; i + 2 < pixels.length; i += step) {
      const pixel: Rgb = [pixels[i] ?? 0, pixels[i + 1] ?? 0, pixels[i + 2] ?? 0];
      if (distance(pixel, background) < 20) continue;
      const colour = nearestColour(pixel);
      counts.set(colour, (counts.get(colour) ?? 0) + 1);
    }

    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const top = ranked[0];
    if (top !== undefined && top[1] >= (info.width * info.height) / 100) return top[0];

    const { dominant } = await image.stats();
    return nearestColour([dominant.r, dominant.g, dominant.b]);
  } catch {
    return undefined;
  }
}

function nearestColour(rgb: Rgb): NamedColour {
  let best = PALETTE[0]!;
  for (const colour of PALETTE) {
    if (distance(rgb, colour.rgb) < distance(rgb, best.rgb)) best = colour;
  }
  return best;
}

function distance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Attribute names that identify rather than describe (codes, ids, hashes). */
const IDENTIFIER_NAME = /code|(^|_)id$|^id|md5|media|sku|ean|hsn/i;

/**
 * A concise description uses the mandatory attributes and the image colour; a detailed one also
 * lists every other attribute, capped near 180 words.
 */
function describe(sections: Sections, colour: NamedColour | undefined, detailed: boolean): string {
  const all = [...sections.mandatory, ...sections.other];
  const used = new Set<NamedValue>();
  const take = (name: RegExp, from: readonly NamedValue[]): string | undefined => {
    const found = from.find((attribute) => name.test(attribute.name) && !used.has(attribute));
    if (found === undefined) return undefined;
    used.add(found);
    return found.value;
  };

  // Only a detailed description uses the good-to-have attributes (if mandatory ones are given).
  const pool = detailed || sections.mandatory.length === 0 ? all : sections.mandatory;
  const listedColour = take(/^colou?r$/i, pool);
  const type = take(/(^|_)(type|category)$/i, pool) ?? take(/type/i, pool) ?? 'product';
  const material = take(/fabric|material/i, pool);
  const audience = take(/ideal_for|gender/i, pool);
  const pattern = take(/pattern/i, pool);
  const brand = take(/^brand$/i, pool);
  const contents = take(/sales_package|package/i, pool);

  const shownColour = colour?.name ?? listedColour?.toLowerCase();
  const noun = [shownColour, material?.toLowerCase(), type.toLowerCase()].filter(Boolean).join(' ');
  const sentences = [
    `${/^[aeiou]/.test(noun) ? 'An' : 'A'} ${noun}` +
      (audience ? ` for ${audience.toLowerCase()}` : '') +
      (pattern ? `, ${pattern.toLowerCase()}` : '') +
      (brand ? `, by ${brand}` : '') +
      '.',
  ];

  if (colour !== undefined && listedColour !== undefined && !sameColour(colour, listedColour)) {
    sentences.push(`The image looks mostly ${colour.name}; the listed colour is ${listedColour}.`);
  }
  if (contents !== undefined) sentences.push(`The package contains ${contents.toLowerCase()}.`);
  if (!detailed) return sentences.join(' ');

  if (colour?.family !== undefined) {
    sentences.push(`Its ${colour.name} is a shade of ${colour.family}.`);
  }
  const details = all
    .filter((attribute) => !used.has(attribute) && attribute.name !== '')
    .filter((attribute) => !IDENTIFIER_NAME.test(attribute.name) && attribute.value.length < 120)
    .map((attribute) => detailText(attribute));

  let text = sentences.join(' ');
  const kept: string[] = [];
  for (const detail of details) {
    if (wordCount(`${text} Further details: ${[...kept, detail].join('; ')}.`) > 180) break;
    kept.push(detail);
  }
  if (kept.length > 0) text += ` Further details: ${kept.join('; ')}.`;
  return text;
}

/** An attribute as a phrase: "lid: glass"; yes/no ones read "insulated", "no cable included". */
function detailText({ name, value }: NamedValue): string {
  const words = name.replace(/_/g, ' ');
  if (NEGATIVE_VALUE.test(value)) {
    const negation = /(safe|resistant|compatible|required)$/.test(name) ? 'not' : 'no';
    return `${negation} ${words}`;
  }
  if (/^yes$/i.test(value)) return words;
  return `${words}: ${value.toLowerCase()}`;
}

/** Values that say the product lacks what the attribute names ("cable_included: No"). */
const NEGATIVE_VALUE = /^(no|none|nil|not included)$/i;

function sameColour(colour: NamedColour, listed: string): boolean {
  const words = tokens(listed);
  return (
    words.includes(colour.name) || (colour.family !== undefined && words.includes(colour.family))
  );
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

// ---------------------------------------------------------------------------------------------
// Judging keywords

interface Judgement {
  readonly keyword: string;
  readonly reason: string;
  readonly result: number;
}

/**
 * Wording cues that make a reviewer stricter or more lenient. Each cue moves every score by one
 * point, at most two either way.
 */
function strictnessShift(text: string): number {
  const strict = [/\bstrict\b/i, /only\s+if\s+clearly\s+supported/i, /cannot\s+confirm/i];
  const lenient = [/\blenient\b/i, /benefit\s+of\s+the\s+doubt/i, /unless[^.]*contradict/i];
  const count = (cues: RegExp[]): number => cues.filter((cue) => cue.test(text)).length;
  return Math.max(-2, Math.min(2, count(lenient) - count(strict)));
}

/** Word classes in which naming another member than the product's is a contradiction. */
type WordClass = 'colour' | 'material' | 'gender' | 'occasion' | 'pattern' | 'season';

const CLASS_WORDS: Record<WordClass, readonly string[]> = {
  colour: [
    ...PALETTE.map((colour) => colour.name),
    'gold',
    'cream',
    'tan',
    'khaki',
    'peach',
    'magenta',
    'violet',
    'turquoise',
    'multicolor',
    'transparent',
  ],
  material: [
    'cotton',
    'rayon',
    'viscose',
    'silk',
    'polyester',
    'linen',
    'wool',
    'denim',
    'leather',
    'suede',
    'canvas',
    'nylon',
    'jute',
    'coir',
    'steel',
    'aluminium',
    'glass',
    'ceramic',
    'plastic',
    'wood',
    'bamboo',
    'silicone',
    'rubber',
    'velvet',
    'georgette',
    'chiffon',
    'crepe',
    'satin',
    'net',
    'lycra',
    'fleece',
    'acrylic',
    'copper',
    'brass',
    'melamine',
    'porcelain',
    'iron',
    'pu',
    'eva',
    'mesh',
    'microfiber',
    'plush',
    'jacquard',
    'metal',
    'khadi',
  ],
  gender: ['women', 'men', 'kids', 'boy', 'girl', 'baby', 'unisex'],
  occasion: ['casual', 'festive', 'party', 'formal', 'wedding', 'sports', 'beach', 'travel'],
  pattern: [
    'solid',
    'printed',
    'floral',
    'checked',
    'striped',
    'embroidered',
    'geometric',
    'polka',
  ],
  season: ['summer', 'winter', 'monsoon'],
};

/** How much one conflicting word costs, out of 10. */
const CONFLICT_COST: Record<WordClass | 'quantity' | 'absent', number> = {
  absent: 4,
  colour: 4,
  material: 4,
  gender: 4,
  quantity: 4,
  occasion: 3,
  pattern: 3,
  season: 3,
};

const CLASS_OF = new Map<string, WordClass>(
  (Object.entries(CLASS_WORDS) as [WordClass, readonly string[]][]).flatMap(([wordClass, words]) =>
    words.map((word): [string, WordClass] => [word, wordClass]),
  ),
);

/** Words that sell rather than describe: they neither support nor contradict anything. */
const VAGUE = new Set([
  'new',
  'latest',
  'stylish',
  'trendy',
  'fancy',
  'designer',
  'beautiful',
  'premium',
  'best',
  'smart',
  'attractive',
  'cute',
  'elegant',
  'classy',
  'fashionable',
  'quality',
  'branded',
  'original',
  'design',
  'look',
]);

/** What the prompt says the product is, and what it says the product does not have. */
interface Evidence {
  readonly present: ReadonlySet<string>;
  readonly absent: ReadonlySet<string>;
}

function judgeKeywords(sections: Sections, shift: number): Judgement[] {
  const present: string[] = [];
  const absent: string[] = [];

  // "no cable included; without a lid" in a description: words after a negation are absences,
  // up to the end of the clause.
  for (const clause of sections.description.split(/[;,]|\.(?!\d)/)) {
    const negated = /\b(?:no|not|without)\b(.*)$/i.exec(clause);
    present.push(...tokens(negated === null ? clause : clause.slice(0, negated.index)));
    if (negated !== null) absent.push(...tokens(negated[1] ?? ''));
  }
  for (const { name, value } of [...sections.mandatory, ...sections.other]) {
    const nameWords = name.replace(/_/g, ' ');
    if (NEGATIVE_VALUE.test(value)) absent.push(...tokens(nameWords));
    else present.push(...tokens(`${nameWords} ${value}`));
  }

  const evidence: Evidence = { present: new Set(present), absent: new Set(absent) };
  return sections.keywords.map((keyword) => judge(keyword, evidence, shift));
}

/**
 * 2 points for a keyword nobody can check, up to 10 when every word is supported; each
 * conflicting word costs 3–4 points; vague words dilute the support by half a word each.
 */
function judge(keyword: string, evidence: Evidence, shift: number): Judgement {
  const supported: string[] = [];
  const unknown: string[] = [];
  const conflicts: string[] = [];
  let vague = 0;
  let cost = 0;

  for (const word of tokens(keyword)) {
    if (VAGUE.has(word)) {
      vague += 1;
      continue;
    }
    const verdict = checkWord(word, evidence);
    if (verdict.kind === 'supported') supported.push(word);
    else if (verdict.kind === 'unknown') unknown.push(word);
    else {
      const product = verdict.product.length > 0 ? verdict.product.join(', ') : `no ${word}`;
      conflicts.push(`${word} (product: ${product})`);
      cost += CONFLICT_COST[verdict.wordClass];
    }
  }

  const weight = supported.length + unknown.length + conflicts.length + vague / 2;
  const base = weight === 0 ? 5 : 2 + (8 * supported.length) / weight;
  const result = Math.max(0, Math.min(10, Math.round(base - cost + shift)));

  const reasons = [
    conflicts.length > 0 ? `conflicts: ${conflicts.join('; ')}` : '',
    supported.length > 0 ? `supported: ${supported.join(', ')}` : '',
    unknown.length > 0 ? `not mentioned: ${unknown.join(', ')}` : '',
    vague > 0 ? 'vague wording' : '',
  ].filter(Boolean);
  const reason = reasons.length > 0 ? `${reasons.join('; ')}.` : 'nothing to check.';
  return { keyword, reason: reason[0]!.toUpperCase() + reason.slice(1), result };
}

type Verdict =
  | { readonly kind: 'supported' }
  | { readonly kind: 'unknown' }
  | {
      readonly kind: 'conflict';
      readonly wordClass: WordClass | 'quantity' | 'absent';
      readonly product: string[];
    };

function checkWord(word: string, { present: evidence, absent }: Evidence): Verdict {
  if (evidence.has(word)) return { kind: 'supported' };
  if (absent.has(word)) return { kind: 'conflict', wordClass: 'absent', product: [] };

  // A quantity ("5l", "3pack", "14inch") conflicts with another amount of the same unit.
  const unit = /^\d+(?:\.\d+)?([a-z]+)$/.exec(word)?.[1];
  if (unit !== undefined) {
    const amounts = [...evidence].filter((other) => other.replace(/^\d+(?:\.\d+)?/, '') === unit);
    const isAmount = amounts.some((other) => /^\d/.test(other));
    return isAmount ? { kind: 'conflict', wordClass: 'quantity', product: amounts } : UNKNOWN;
  }

  const wordClass = CLASS_OF.get(word);
  if (wordClass === undefined) return UNKNOWN;
  // Anyone can use a unisex product; any word for a child fits a product for children.
  if (wordClass === 'gender' && evidence.has('unisex')) return { kind: 'supported' };
  if (word === 'unisex' && evidence.has('men') && evidence.has('women')) {
    return { kind: 'supported' };
  }
  if (word === 'printed' && PRINTS.some((print) => evidence.has(print))) {
    return { kind: 'supported' };
  }
  if (KIDS.includes(word) && KIDS.some((other) => evidence.has(other))) {
    return { kind: 'supported' };
  }

  const product = CLASS_WORDS[wordClass].filter((other) => evidence.has(other));
  return product.length > 0 ? { kind: 'conflict', wordClass, product } : UNKNOWN;
}

const UNKNOWN: Verdict = { kind: 'unknown' };

/** Patterns that are printed. */
const PRINTS = ['floral', 'geometric', 'polka', 'graphic'];

/** Words for a child: any of them fits a product for boys, girls or babies. */
const KIDS = ['boy', 'girl', 'kids', 'baby'];

// ---------------------------------------------------------------------------------------------
// Words

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'and',
  'or',
  'for',
  'with',
  'of',
  'in',
  'on',
  'to',
  'by',
  'from',
  'at',
  'as',
  'is',
  'it',
  'its',
  'this',
  'that',
  'wear',
]);

/** Spellings folded into one word before comparing. */
const SYNONYMS: Record<string, string> = {
  kurti: 'kurta',
  kurtis: 'kurta',
  woman: 'women',
  ladies: 'women',
  lady: 'women',
  female: 'women',
  man: 'men',
  gents: 'men',
  male: 'men',
  kid: 'kids',
  child: 'kids',
  children: 'kids',
  toddler: 'baby',
  infant: 'baby',
  gray: 'grey',
  colour: 'color',
  multicolour: 'multicolor',
  multi: 'multicolor',
  aluminum: 'aluminium',
  wooden: 'wood',
  woolen: 'wool',
  woollen: 'wool',
  golden: 'gold',
  pajama: 'pyjama',
  zipper: 'zip',
  mic: 'microphone',
  knives: 'knife',
  nude: 'beige',
  canvas: 'canvas',
  print: 'printed',
  check: 'checked',
  stripe: 'striped',
  embroidery: 'embroidered',
  plain: 'solid',
  sport: 'sports',
  gym: 'sports',
  office: 'formal',
  bridal: 'wedding',
  daily: 'casual',
  rainy: 'monsoon',
};

const NUMBER_WORDS = [
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
];

/** Units written after a number, folded to one spelling and glued to it ("30 litre" → "30l"). */
const UNITS: readonly [RegExp, string][] = [
  [/litres?|liters?|ltrs?|l/, 'l'],
  [/ml/, 'ml'],
  [/cm/, 'cm'],
  [/mm/, 'mm'],
  [/inch(?:es)?/, 'inch'],
  [/feet|foot|ft/, 'ft'],
  [/watts?|w/, 'w'],
  [/mah/, 'mah'],
  [/gsm/, 'gsm'],
  [/tc/, 'tc'],
  [/hours?|hrs?/, 'hr'],
  [/years?|yrs?/, 'year'],
  [/months?/, 'month'],
  [/kg/, 'kg'],
  [/g|grams?/, 'g'],
];

/** Lower-cased, folded, lightly stemmed content words of a text. */
function tokens(text: string): string[] {
  let folded = text.toLowerCase().replace(/[’‘`]/g, "'").replace(/'s\b/g, '');
  folded = folded
    .replace(/\bt[\s-]?shirts?\b|\btees?\b/g, ' tshirt ')
    .replace(/\bnon[\s-]?stick\b/g, ' nonstick ')
    .replace(/\ba[\s-]line\b/g, ' aline ')
    .replace(/\bbed\s?sheets?\b/g, ' bedsheet ')
    .replace(/\bdoor\s?mats?\b/g, ' doormat ')
    .replace(/\blace[\s-]?ups?\b/g, ' laceup ')
    .replace(/\b(bi|tri)[\s-]?fold\b/g, ' $1fold ')
    .replace(/\b(shock|water)[\s-]?proof\b/g, ' $1proof ')
    .replace(/\btrue wireless\b/g, ' tws ')
    .replace(new RegExp(`\\b(${NUMBER_WORDS.join('|')})\\b`, 'g'), (word) =>
      String(NUMBER_WORDS.indexOf(word) + 1),
    )
    .replace(/(\d+)\s*x\s*(\d+)/g, '$1x$2')
    .replace(/\b(?:pack|set)\s+of:?\s*(\d+)\b/g, ' $1pack ')
    .replace(/\b(\d+)\s*(?:pieces?|pcs?)\b/g, ' $1piece ');
  for (const [pattern, unit] of UNITS) {
    const glued = new RegExp(`\\b(\\d+(?:\\.\\d+)?)\\s*(?:${pattern.source})\\b`, 'g');
    folded = folded.replace(glued, `$1${unit}`);
  }
  // One unit per quantity: "1 litre" and "1000 ml" are the same bottle.
  folded = folded.replace(
    /\b(\d+(?:\.\d+)?)l\b/g,
    (_, amount: string) => `${Number(amount) * 1000}ml`,
  );

  const words = folded.match(/[a-z0-9]+(?:\.\d+)?[a-z]*/g) ?? [];
  return words.map((word) => stem(word)).filter((word) => !STOPWORDS.has(word));
}

function stem(word: string): string {
  const synonym = SYNONYMS[word];
  if (synonym !== undefined) return synonym;
  if (/^\d/.test(word)) return word;

  let base = word;
  if (base.length > 4 && base.endsWith('ies')) base = `${base.slice(0, -3)}y`;
  else if (base.length > 4 && /(ss|x|ch|sh)es$/.test(base)) base = base.slice(0, -2);
  else if (base.length > 3 && base.endsWith('s') && !/(ss|us|is)$/.test(base)) {
    base = base.slice(0, -1);
  }
  return SYNONYMS[base] ?? base;
}
