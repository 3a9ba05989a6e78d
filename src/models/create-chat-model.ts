import type { ConnectionConfig } from '../config/types.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { ChatModel } from './chat-model.js';
import { moduleModel } from './module-model.js';
import { openAiModel } from './openai-model.js';
import type { LimiterFactory } from './rate-limiter.js';

/** Thrown when a connection cannot be used as configured (e.g. its API key is not set). */
export class ConnectionSetupError extends Error {
  constructor(
    message: string,
    readonly connection: ConnectionConfig,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * Opens the endpoint a connection names. A remote connection's keys are read here, from the
 * variables its endpoints name; a missing one is reported by name (never by value) before any
 * request is sent. `limiters` makes the limiter of each endpoint (by default one of this process).
 */
export async function createChatModel(
  root: string,
  connection: ConnectionConfig,
  hashes: { moduleHash(file: string): Promise<ContentHash> },
  env: Readonly<Record<string, string | undefined>> = process.env,
  limiters?: LimiterFactory,
): Promise<ChatModel> {
  switch (connection.kind) {
    case 'module':
      return moduleModel(root, connection, await hashes.moduleHash(connection.module));
    case 'openai':
    case 'azure_openai': {
      const keys = new Map<string, string>();
      const missing = new Set<string>();
      for (const endpoint of connection.endpoints) {
        if (endpoint.api_key_env === null) continue;
        const key = env[endpoint.api_key_env];
        if (key === undefined || key === '') missing.add(endpoint.api_key_env);
        else keys.set(endpoint.name, key);
      }
      if (missing.size > 0) {
        const names = [...missing];
        throw new ConnectionSetupError(
          `connection "${connection.name}" needs an API key in ${names.join(' and ')}, ` +
            `which ${names.length === 1 ? 'is' : 'are'} not set`,
          connection,
          `export ${names[0]}=… or put it in the project's .env ` +
            '(a server that takes no key: `api_key_env: none`)',
        );
      }
      if (limiters === undefined) return openAiModel(connection, keys);
      const endpoints = new Map(connection.endpoints.map((endpoint) => [endpoint.name, endpoint]));
      return openAiModel(connection, keys, (name) => {
        const endpoint = endpoints.get(name);
        if (endpoint === undefined) throw new Error(`internal error: endpoint ${name}`);
        return limiters(connection, endpoint);
      });
    }
  }
}
