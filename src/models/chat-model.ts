import type { ConnectionIdentity } from '../fingerprint/run-fingerprint.js';
import type { ChatRequest, ChatResponse } from './chat.js';

/** A model endpoint, whatever its kind: kwgraph sends it chat requests and nothing else. */
export interface ChatModel {
  /** The connection's name in experiment.yaml. */
  readonly name: string;
  /** What identifies the endpoint in cache keys; never a secret. */
  readonly identity: ConnectionIdentity;
  /** The model to name when neither the node nor the settings name one. */
  readonly defaultModel: string | undefined;
  complete(request: ChatRequest): Promise<ChatResponse>;
}

/** A failed call: the row fails with this message; nothing is cached. */
export class ModelCallError extends Error {}
