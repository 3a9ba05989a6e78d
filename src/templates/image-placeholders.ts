import { randomBytes } from 'node:crypto';

import { isImageRef, type ChatMessage, type ContentPart, type ImageRef } from '../models/chat.js';
import { fail, ok, type Result } from '../util/result.js';
import { ChatInputList } from './python-repr.js';
import type { TemplateError } from './template-error.js';

/**
 * Images in a chat template. A template places an image where it writes promptflow's markdown
 * form, `![image]({{ image }})`, or prints it alone on a line (as promptflow's vision tools
 * read a message); images it does not place go after the text of the last user message. A list
 * holding images prints one item per line, as promptflow's chat tools print it, so that
 * `{{ question }}` with `["How many colours?", <image>]` places the image after the text.
 *
 * While the template renders, each image variable is a placeholder carrying a random nonce, so
 * the only way to produce an image part is to print an image variable: row data holding
 * `![image](https://...)` stays text, as it cannot know the nonce. A placeholder printed within
 * other text becomes the image's source text (its path or URL).
 */

/** The images of a node's variables, in order: top-level values and items of top-level lists. */
export function imagesIn(variables: Readonly<Record<string, unknown>>): ImageRef[] {
  return Object.values(variables).flatMap((value) =>
    isImageRef(value) ? [value] : Array.isArray(value) ? value.filter(isImageRef) : [],
  );
}

export interface ImagePlaceholders {
  /** The variables with each image (as imagesIn finds them) replaced by its placeholder. */
  readonly variables: Record<string, unknown>;
  /** The placeholders in imagesIn order. */
  readonly images: readonly ImageRef[];
  /** Puts the images into rendered messages; see `placeImages`. */
  readonly nonce: string;
}

export function withImagePlaceholders(
  variables: Readonly<Record<string, unknown>>,
): ImagePlaceholders {
  const nonce = randomBytes(8).toString('hex');
  const images: ImageRef[] = [];
  const placeholder = (image: ImageRef): string => {
    images.push(image);
    return `kwimg${nonce}n${images.length - 1}x`;
  };
  const replaced: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    replaced[name] = isImageRef(value)
      ? placeholder(value)
      : Array.isArray(value)
        ? value.map((item: unknown) => (isImageRef(item) ? placeholder(item) : item))
        : value;
  }
  return { variables: replaced, images, nonce };
}

/**
 * The variables as the template sees them: lists that hold images become ChatInputLists,
 * which print one item per line. Applied to the copy a render owns.
 */
export function withChatLists(
  variables: Record<string, unknown>,
  placeholders: ImagePlaceholders,
): Record<string, unknown> {
  const token = new RegExp(`^kwimg${placeholders.nonce}n\\d+x$`);
  const holdsImage = (item: unknown) => typeof item === 'string' && token.test(item);
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    result[name] =
      Array.isArray(value) && value.some(holdsImage) ? ChatInputList.from(value) : value;
  }
  return result;
}

/**
 * Turns `![alt](placeholder)` in each message into an image part at that position (the text on
 * either side becomes a text part, trimmed) and any other placeholder into the image's source
 * text. `urls[i]` is what to send for image `i`; images
 * (and extra URLs) not placed this way are appended to the last user message, after its text.
 */
export function placeImages(
  messages: readonly ChatMessage[],
  placeholders: ImagePlaceholders,
  urls: readonly ImageRef[],
  detail: 'low' | 'high' | 'auto' | undefined,
  file: string,
): Result<ChatMessage[], TemplateError> {
  const { nonce, images } = placeholders;
  // `![alt](placeholder)` anywhere, or a placeholder alone on its line.
  const placed = new RegExp(
    `!\\[[^\\]\\n]*\\]\\(\\s*kwimg${nonce}n(\\d+)x\\s*\\)|^[^\\S\\n]*kwimg${nonce}n(\\d+)x[^\\S\\n]*$`,
    'gim',
  );
  const bare = new RegExp(`kwimg${nonce}n(\\d+)x`, 'gi');
  const sourceText = (text: string) =>
    text.replace(bare, (found: string, index: string) => images[Number(index)]?.source ?? found);
  const part = (index: number): ContentPart => {
    const url = urls[index]?.source ?? images[index]?.source ?? '';
    return { type: 'image_url', image_url: { url, ...(detail ? { detail } : {}) } };
  };

  const used = new Set<number>();
  const result: ChatMessage[] = [];
  for (const message of messages) {
    const text = typeof message.content === 'string' ? message.content : '';
    // Most messages hold no placeholder: one plain search spares both regular expressions
    // (the nonce is lowercase hex; the expressions ignore case, so the text is lowered too).
    if (!text.toLowerCase().includes(`kwimg${nonce}`)) {
      result.push(typeof message.content === 'string' ? { ...message } : message);
      continue;
    }
    const matches = [...text.matchAll(placed)];
    if (matches.length === 0) {
      result.push(
        typeof message.content === 'string' ? { ...message, content: sourceText(text) } : message,
      );
      continue;
    }
    if (message.role !== 'user') {
      return fail({
        file,
        message: `an image is placed in a "${message.role}" message; models take images in user messages only`,
      });
    }
    const parts: ContentPart[] = [];
    let at = 0;
    for (const match of matches) {
      const before = sourceText(text.slice(at, match.index)).trim();
      if (before !== '') parts.push({ type: 'text', text: before });
      const index = Number(match[1] ?? match[2]);
      parts.push(part(index));
      used.add(index);
      at = match.index + match[0].length;
    }
    const after = sourceText(text.slice(at)).trim();
    if (after !== '') parts.push({ type: 'text', text: after });
    result.push({ role: 'user', content: parts });
  }

  const unplaced = [...Array(Math.max(urls.length, images.length)).keys()].filter(
    (index) => !used.has(index),
  );
  if (unplaced.length === 0) return ok(result);

  const last = result.findLastIndex((message) => message.role === 'user');
  const target = result[last];
  if (target === undefined) {
    const message = 'the node has images but its template has no "# user:" message to put them in';
    return fail({ file, message });
  }
  const parts: ContentPart[] =
    typeof target.content === 'string'
      ? target.content === ''
        ? []
        : [{ type: 'text', text: target.content }]
      : [...target.content];
  for (const index of unplaced) parts.push(part(index));
  result[last] = { role: 'user', content: parts };
  return ok(result);
}
