import type { ChatMessage, ContentPart, ImagePart, ImageRef } from '../models/chat.js';
import { fail, ok, type Result } from '../util/result.js';
import { copyVariables } from './copy-values.js';
import { renderTemplate } from './render-template.js';
import { escapeRoleMarkers } from './role-markers.js';
import { splitChatMessages } from './split-chat-messages.js';
import type { TemplateError } from './template-error.js';

export type { TemplateError } from './template-error.js';

export type ImageDetail = NonNullable<ImagePart['image_url']['detail']>;

export interface ChatTemplateOptions {
  /**
   * Images for the node, in order. Each source must already be a URL a model accepts (an
   * http(s) or data URL; see models/encode-image.ts): it is sent as it is.
   */
  readonly images?: readonly ImageRef[];
  /** The `detail` of every image part; left out of the request when not given. */
  readonly detail?: ImageDetail;
}

/**
 * Renders an `llm` node's template into chat messages: the text is split on its role lines
 * (`# system:`, `# user:`, `# assistant:`; see role-markers.ts), and the images become parts of
 * the last user message, after its text.
 *
 * Row data cannot open a turn: role lines inside values are hidden while the template renders
 * and restored in each message afterwards. Nor is it ever evaluated: `{{ ... }}` in a value is
 * text. Text before the first role line is an error, as in promptflow (split-chat-messages.ts).
 */
export function renderChatTemplate(
  source: string,
  file: string,
  variables: Record<string, unknown>,
  options: ChatTemplateOptions = {},
): Result<ChatMessage[], TemplateError> {
  const escape = escapeRoleMarkers();
  const rendered = renderTemplate(source, file, copyVariables(variables, escape.hide));
  if (!rendered.ok) {
    return fail({ ...rendered.error, message: escape.restore(rendered.error.message) });
  }

  const messages = splitChatMessages(rendered.value, escape.restore, source, file);
  if (!messages.ok) return messages;
  return attachImages(messages.value, options, file);
}

/** Renders a `prompt` node's template to one string, as it is (not split, not trimmed). */
export function renderPromptTemplate(
  source: string,
  file: string,
  variables: Record<string, unknown>,
): Result<string, TemplateError> {
  // A copy, because templates may call Python's mutating methods on what they are given.
  return renderTemplate(source, file, copyVariables(variables));
}

function attachImages(
  messages: ChatMessage[],
  options: ChatTemplateOptions,
  file: string,
): Result<ChatMessage[], TemplateError> {
  const images = options.images ?? [];
  if (images.length === 0) return ok(messages);

  const last = messages.findLastIndex((message) => message.role === 'user');
  const target = messages[last];
  if (target === undefined) {
    const message = 'the node has images but its template has no "# user:" message to put them in';
    return fail({ file, message });
  }

  const text = typeof target.content === 'string' ? target.content : '';
  const parts: ContentPart[] = text === '' ? [] : [{ type: 'text', text }];
  for (const image of images) {
    const imageUrl = { url: image.source, ...(options.detail ? { detail: options.detail } : {}) };
    parts.push({ type: 'image_url', image_url: imageUrl });
  }

  const withImages = [...messages];
  withImages[last] = { role: 'user', content: parts };
  return ok(withImages);
}
