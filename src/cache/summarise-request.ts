import { hashBytes } from '../fingerprint/hash.js';
import type { ChatRequest } from '../models/chat.js';

/**
 * A request as stored next to its answer: image data URLs are replaced by their size and
 * digest, so the stored request stays readable and small while the key still covers the bytes.
 */
export function summariseRequest(request: ChatRequest): unknown {
  return {
    ...request,
    messages: request.messages.map((message) =>
      typeof message.content === 'string'
        ? message
        : {
            ...message,
            content: message.content.map((part) =>
              part.type === 'image_url' && part.image_url.url.startsWith('data:')
                ? {
                    ...part,
                    image_url: {
                      ...part.image_url,
                      url: `${part.image_url.url.slice(0, part.image_url.url.indexOf(',') + 1)}… (${part.image_url.url.length} chars, sha256 ${hashBytes(part.image_url.url).slice(0, 16)})`,
                    },
                  }
                : part,
            ),
          },
    ),
  };
}
