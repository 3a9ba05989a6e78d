import type { ConnectionConfig } from '../config/types.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { ChatModel } from './chat-model.js';
import { moduleModel } from './module-model.js';
import { openAiModel } from './openai-model.js';

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

/** Opens the endpoint a connection names. */
export async function createChatModel(
  root: string,
  connection: ConnectionConfig,
  hashes: { moduleHash(file: string): Promise<ContentHash> },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ChatModel> {
  switch (connection.kind) {
    case 'module':
      return moduleModel(root, connection, await hashes.moduleHash(connection.module));
    case 'openai': {
      const apiKey = env[connection.api_key_env];
      if (apiKey === undefined || apiKey === '') {
        throw new ConnectionSetupError(
          `connection "${connection.name}" needs an API key in ${connection.api_key_env}, which is not set`,
          connection,
          `export ${connection.api_key_env}=… or put it in .env`,
        );
      }
      return openAiModel(connection, apiKey);
    }
  }
}
