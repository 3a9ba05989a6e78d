import path from 'node:path';

import type { ConnectionConfig } from '../config/types.js';
import type { ContentHash } from '../fingerprint/hash.js';
import { exportedFunction, importUserModule } from '../util/import-module.js';
import type { ChatRequest, ChatResponse } from './chat.js';
import { ModelCallError, type ChatModel, type ModelAnswer } from './chat-model.js';

/**
 * A `module` connection: a local file whose default export (or `complete` export) answers chat
 * requests. Used for offline stand-ins and tests; kwgraph caches and counts its calls exactly as
 * it does a remote model's.
 */
export function moduleModel(
  root: string,
  connection: Extract<ConnectionConfig, { kind: 'module' }>,
  moduleHash: ContentHash,
): ChatModel {
  const file = path.join(root, connection.module);
  return {
    name: connection.name,
    identity: { kind: 'module', module: connection.module, moduleHash },
    defaultModel: connection.model,
    async complete(request: ChatRequest): Promise<ModelAnswer> {
      const module = await importUserModule(file);
      const complete = exportedFunction(module, 'default') ?? exportedFunction(module, 'complete');
      if (complete === undefined) {
        throw new ModelCallError(
          `${connection.module} exports no function: export default async function (request)`,
        );
      }
      const started = performance.now();
      const response = (await complete(structuredClone(request))) as ChatResponse | undefined;
      const latencyMs = Math.round(performance.now() - started);
      if (typeof response?.choices?.[0]?.message?.content !== 'string') {
        throw new ModelCallError(
          `${connection.module} returned no choices[0].message.content for the request`,
        );
      }
      return { response, endpoint: connection.name, latencyMs, retries: 0 };
    },
  };
}
