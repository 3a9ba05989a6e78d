import type { ChatRequest } from './chat.js';

/** Completion tokens reserved for a request that sets no `max_tokens`. */
const DEFAULT_COMPLETION_TOKENS = 512;
/** What OpenAI charges for a low-detail image, and for a typical high-detail one (4 tiles). */
const LOW_DETAIL_IMAGE_TOKENS = 85;
const HIGH_DETAIL_IMAGE_TOKENS = 765;

/**
 * A cautious estimate of the tokens a request will use, for a tokens-per-minute budget: about
 * four characters a token for text, a fixed cost per image, and the completion's upper bound.
 * Only pacing relies on it; the usage the server reports settles the account afterwards.
 */
export function estimateTokens(request: ChatRequest): number {
  let characters = 0;
  let images = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') {
      characters += message.content.length;
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'text') characters += part.text.length;
      else {
        images +=
          part.image_url.detail === 'low' ? LOW_DETAIL_IMAGE_TOKENS : HIGH_DETAIL_IMAGE_TOKENS;
      }
    }
  }
  return Math.ceil(characters / 4) + images + (request.max_tokens ?? DEFAULT_COMPLETION_TOKENS);
}
