import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import nunjucks from 'nunjucks';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { scoreRow } from '../../flows/evaluate/score-row.ts';
import { splitAttributes } from '../../flows/shared/split-attributes.ts';
import { listKeywords } from '../../flows/validate/list-keywords.ts';
import complete from '../../models/offline-baseline.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Request = Parameters<typeof complete>[0];
type Message = Request['messages'][number];

const DESCRIBE_TEXT = [
  'Write a concise, factual description of the product in the image.',
  '',
  'Mandatory attributes:',
  '- color: Red',
  '- fabric: Viscose Rayon',
  '- ideal_for: Women',
  '- type: Straight Kurta',
  '',
  'Other attributes, most often filled first:',
  '- occasion: Festive',
  '- neck: Round Neck',
].join('\n');

const VALIDATE_TEXT = [
  'Product description:',
  'A red viscose rayon straight kurta for women.',
  '',
  'Mandatory attributes:',
  '- color: Red',
  '- fabric: Viscose Rayon',
  '- ideal_for: Women',
  '',
  'Other attributes (up to 10, most often filled first):',
  '- occasion: Festive',
  '- pockets: No',
  '',
  'Keywords to judge (5):',
  '- red rayon kurta',
  '- cotton kurta',
  '- men kurta',
  '- kurta with pockets',
  '- anarkali kurta',
].join('\n');

/** A flat red rectangle on a light background: the baseline should call it red. */
async function redProductImage(): Promise<string> {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120">' +
    '<rect width="120" height="120" fill="#ece8e0"/>' +
    '<rect x="30" y="10" width="60" height="100" fill="#c81e28"/></svg>';
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function request(messages: readonly Message[], extra: Partial<Request> = {}): Request {
  return { model: 'gpt-4o-mini', messages, ...extra };
}

async function describeRequest(wording: 'concise' | 'detailed'): Promise<Request> {
  const text = wording === 'concise' ? DESCRIBE_TEXT : DESCRIBE_TEXT.replace('concise', 'detailed');
  return request([
    { role: 'system', content: 'You write product descriptions.' },
    {
      role: 'user',
      content: [
        { type: 'text', text },
        { type: 'image_url', image_url: { url: await redProductImage() } },
      ],
    },
  ]);
}

function validateRequest(system: string): Request {
  return request([
    { role: 'system', content: system },
    { role: 'user', content: VALIDATE_TEXT },
  ]);
}

async function answer(req: Request): Promise<string> {
  const response = await complete(req);
  return response.choices[0]?.message.content ?? '';
}

interface Judgement {
  keyword: string;
  reason: string;
  result: number;
}

async function judgements(system: string): Promise<Map<string, number>> {
  const parsed = JSON.parse(await answer(validateRequest(system))) as Judgement[];
  return new Map(parsed.map((j) => [j.keyword, j.result]));
}

describe('offline baseline: describe prompts', () => {
  it('describes the product from its attributes and the image colour, as plain text', async () => {
    const text = await answer(await describeRequest('concise'));
    expect(text).toMatch(/^A red viscose rayon straight kurta for women/);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('writes more for a detailed prompt than for a concise one', async () => {
    const concise = await answer(await describeRequest('concise'));
    const detailed = await answer(await describeRequest('detailed'));
    expect(detailed.length).toBeGreaterThan(concise.length);
    expect(detailed).toContain('festive');
    expect(concise).not.toContain('festive');
  });

  it('wraps the description in an object only when json_object is asked for', async () => {
    const req = { ...(await describeRequest('concise')), response_format: { type: 'json_object' } };
    const wrapped = JSON.parse(await answer(req as Request)) as { description: string };
    expect(wrapped.description).toMatch(/^A red/);
  });
});

describe('offline baseline: validate prompts', () => {
  const neutral = 'You review search keywords. Answer with a JSON array.';

  it('answers a JSON array with every keyword, in order, and integer results 0–10', async () => {
    const parsed = JSON.parse(await answer(validateRequest(neutral))) as Judgement[];
    expect(parsed.map((j) => j.keyword)).toEqual([
      'red rayon kurta',
      'cotton kurta',
      'men kurta',
      'kurta with pockets',
      'anarkali kurta',
    ]);
    for (const j of parsed) {
      expect(Number.isInteger(j.result)).toBe(true);
      expect(j.result).toBeGreaterThanOrEqual(0);
      expect(j.result).toBeLessThanOrEqual(10);
      expect(j.reason).not.toBe('');
    }
  });

  it('scores supported keywords high and conflicting ones low', async () => {
    const results = await judgements(neutral);
    expect(results.get('red rayon kurta')).toBe(10);
    // A material, a gender, and something the attributes say the product lacks.
    expect(results.get('cotton kurta')).toBeLessThan(4);
    expect(results.get('men kurta')).toBeLessThan(4);
    expect(results.get('kurta with pockets')).toBeLessThan(4);
    // Not contradicted, not supported: in between.
    expect(results.get('anarkali kurta')).toBeGreaterThan(results.get('cotton kurta') ?? 10);
    expect(results.get('anarkali kurta')).toBeLessThan(10);
  });

  it('scores lower for strict wording and higher for lenient wording', async () => {
    const neutralScores = await judgements(neutral);
    const strict = await judgements('Be strict: correct only if clearly supported.');
    const lenient = await judgements('Be lenient; give the seller the benefit of the doubt.');
    const keyword = 'anarkali kurta';
    expect(strict.get(keyword)).toBeLessThan(neutralScores.get(keyword) ?? 0);
    expect(lenient.get(keyword)).toBeGreaterThan(neutralScores.get(keyword) ?? 10);
  });

  it('is deterministic', async () => {
    const first = await complete(validateRequest(neutral));
    const second = await complete(validateRequest(neutral));
    expect(second).toEqual(first);
  });

  it('wraps the judgements in an object only when json_object is asked for', async () => {
    const req = request(validateRequest(neutral).messages, {
      response_format: { type: 'json_object' },
    });
    const wrapped = JSON.parse(await answer(req)) as { judgements: Judgement[] };
    expect(wrapped.judgements).toHaveLength(5);
  });

  it('reports usage as ceil(characters / 4)', async () => {
    const response = await complete(validateRequest('abc'));
    const content = response.choices[0]?.message.content ?? '';
    const promptChars = 'abc'.length + 1 + VALIDATE_TEXT.length; // messages joined by "\n"
    expect(response.usage).toEqual({
      prompt_tokens: Math.ceil(promptChars / 4),
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens: Math.ceil(promptChars / 4) + Math.ceil(content.length / 4),
    });
  });
});

describe('offline baseline: odd input', () => {
  it('never throws', async () => {
    const odd: unknown[] = [
      {},
      { messages: null },
      { model: 'm', messages: [{ role: 'user', content: 42 }] },
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
          },
        ],
      },
    ];
    for (const req of odd) {
      const response = await complete(req as Request);
      expect(typeof response.choices[0]?.message.content).toBe('string');
    }
  });
});

describe('offline baseline with the example flow', () => {
  it('answers the real validate template in a form score_row can score', async () => {
    const line = (await readFile(path.join(root, 'data/products.jsonl'), 'utf8')).split('\n')[0];
    const row = JSON.parse(line ?? '{}') as { grounding_attributes: unknown; keywords: object };
    const template = await readFile(path.join(root, 'flows/validate/strict.jinja2'), 'utf8');

    // The engine's settings for templates (see src/templates/environment.ts).
    const env = new nunjucks.Environment(null, { autoescape: false, trimBlocks: true });
    const rendered = env.renderString(template, {
      description: 'A maroon viscose rayon kurta set for women.',
      ...splitAttributes({ attributes: row.grounding_attributes }),
      top_n: 10,
      keywords: listKeywords({ keywords: row.keywords }),
    });
    const [system = '', user = ''] = rendered
      .split(/^# (?:system|user):$/m)
      .slice(1)
      .map((part) => part.trim());

    const text = await answer(
      request([
        { role: 'system', content: system },
        { role: 'user', content: user },
      ]),
    );
    const score = scoreRow({ answer: text, labels: row.keywords });
    expect(score.status).toBe('scored');
    expect(score.labelled_keywords).toBe(Object.keys(row.keywords).length);
  });
});
