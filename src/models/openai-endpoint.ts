import OpenAI, { AzureOpenAI } from 'openai';

import { OPENAI_API_URL } from '../config/normalize-connection.js';
import type {
  AzureEndpointConfig,
  OpenAiEndpointConfig,
  RemoteConnectionConfig,
} from '../config/types.js';
import type { ChatRequest, ChatResponse } from './chat.js';

/** One endpoint of a remote connection: sends one request, once, and returns the answer. */
export interface RemoteEndpoint {
  readonly name: string;
  send(request: ChatRequest): Promise<ChatResponse>;
}

/** What the client sends as the key of a server that takes none: the client insists on one. */
const NO_KEY = 'no-key';

/**
 * A client of the official `openai` package for one endpoint. Its own retries are off: the
 * connection's retry policy and the endpoint's limiter decide when a request is sent again, and
 * every request sent is counted. Base URLs are always passed explicitly, so OPENAI_BASE_URL in
 * the environment cannot redirect a connection (nor clash with an Azure endpoint).
 */
export function openAiEndpoint(
  connection: RemoteConnectionConfig,
  endpoint: OpenAiEndpointConfig | AzureEndpointConfig,
  apiKey: string | undefined,
): RemoteEndpoint {
  const common = { apiKey: apiKey ?? NO_KEY, maxRetries: 0, timeout: connection.timeoutMs };
  const client =
    'endpoint' in endpoint
      ? new AzureOpenAI({
          ...common,
          baseURL: `${endpoint.endpoint.replace(/\/+$/, '')}/openai`,
          apiVersion: endpoint.api_version,
          ...(endpoint.deployment === undefined ? {} : { deployment: endpoint.deployment }),
        })
      : new OpenAI({ ...common, baseURL: endpoint.base_url ?? OPENAI_API_URL });

  return {
    name: endpoint.name,
    // NOTE: requests carry `max_tokens`; models that take only `max_completion_tokens`
    // (OpenAI's reasoning models) refuse them.
    async send(request) {
      const completion = await client.chat.completions.create({
        ...(request as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
        stream: false,
      });
      return answerOf(completion);
    },
  };
}

/**
 * The parts of a completion kwgraph keeps (in the call cache, in traces): the answer and the
 * usage, in the shape every connection kind returns.
 */
function answerOf(completion: OpenAI.Chat.ChatCompletion): ChatResponse {
  const usage = completion.usage;
  return {
    model: completion.model,
    choices: (completion.choices ?? []).map((choice) => ({
      index: choice.index,
      message: { role: 'assistant', content: choice.message?.content ?? null },
      finish_reason: choice.finish_reason ?? null,
    })),
    ...(usage
      ? {
          usage: {
            prompt_tokens: usage.prompt_tokens ?? 0,
            completion_tokens: usage.completion_tokens ?? 0,
            total_tokens: usage.total_tokens ?? 0,
          },
        }
      : {}),
  };
}
