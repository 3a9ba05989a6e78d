import { isImageRef, type ChatMessage, type ImagePart, type ImageRef } from '../models/chat.js';
import { fail, type Result } from '../util/result.js';
import { copyVariables } from './copy-values.js';
import { placeImages, withChatLists, withImagePlaceholders } from './image-placeholders.js';
import { renderTemplate } from './render-template.js';
import { escapeRoleMarkers } from './role-markers.js';
import { splitChatMessages } from './split-chat-messages.js';
import type { TemplateError } from './template-error.js';

export type { TemplateError } from './template-error.js';
export { imagesIn } from './image-placeholders.js';

export type ImageDetail = NonNullable<ImagePart['image_url']['detail']>;

export interface ChatTemplateOptions {
  /**
   * What to send for the node's images, each an URL a model accepts (an http(s) or data URL;
   * see models/encode-image.ts), sent as it is. Entry `i` is image `i` of the variables, in
   * the order `imagesIn` lists them; entries beyond those are images the template cannot
   * place, appended to the last user message.
   */
  readonly images?: readonly ImageRef[];
  /** The `detail` of every image part; left out of the request when not given. */
  readonly detail?: ImageDetail;
}

/**
 * Renders an `llm` node's template into chat messages: the text is split on its role lines
 * (`# system:`, `# user:`, `# assistant:`; see role-markers.ts). An image written in
 * promptflow's markdown form (`![image]({{ image }})`) becomes an image part at that place;
 * the other images become parts of the last user message, after its text
 * (image-placeholders.ts).
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
  const placeholders = withImagePlaceholders(variables);
  const escape = escapeRoleMarkers();
  const variablesSeen = withChatLists(
    copyVariables(placeholders.variables, escape.hide),
    placeholders,
  );
  const rendered = renderTemplate(source, file, variablesSeen);
  if (!rendered.ok) {
    return fail({ ...rendered.error, message: escape.restore(rendered.error.message) });
  }

  const messages = splitChatMessages(rendered.value, escape.restore, source, file);
  if (!messages.ok) return messages;
  return placeImages(messages.value, placeholders, options.images ?? [], options.detail, file);
}

/**
 * Renders a `prompt` node's template to one string, as it is (not split, not trimmed). An image
 * prints as its source (path or URL).
 */
export function renderPromptTemplate(
  source: string,
  file: string,
  variables: Record<string, unknown>,
): Result<string, TemplateError> {
  const asText: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    asText[name] = isImageRef(value)
      ? value.source
      : Array.isArray(value)
        ? value.map((item: unknown) => (isImageRef(item) ? item.source : item))
        : value;
  }
  // A copy, because templates may call Python's mutating methods on what they are given.
  return renderTemplate(source, file, copyVariables(asText));
}
