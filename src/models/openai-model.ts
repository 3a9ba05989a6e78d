import OpenAI from 'openai';

import type { ConnectionConfig } from '../config/types.js';
import type { ChatRequest, ChatResponse } from './chat.js';
import { ModelCallError, type ChatModel } from './chat-model.js';

/** An OpenAI or OpenAI-compatible endpoint, through the official client. */
export function openAiModel(
  connection: Extract<ConnectionConfig, { kind: 'openai' }>,
  apiKey: string,
): ChatModel {
  const client = new OpenAI({
    apiKey,
    ...(connection.base_url ? { baseURL: connection.base_url } : {}),
  });
  return {
    name: connection.name,
    identity: { kind: 'openai', baseUrl: connection.base_url ?? null },
    defaultModel: connection.model,
    async complete(request: ChatRequest): Promise<ChatResponse> {
      try {
        const response = await client.chat.completions.create({
          ...(request as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
          stream: false,
        });
        return response as unknown as ChatResponse;
      } catch (error) {
        // The client's messages can quote request headers; only the status and the server's
        // own message are passed on, so a key never reaches a log.
        if (error instanceof OpenAI.APIError) {
          throw new ModelCallError(
            `${connection.name}: HTTP ${error.status ?? '?'}: ${error.message}`,
          );
        }
        throw new ModelCallError(
          `${connection.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}
