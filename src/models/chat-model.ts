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
  /** Model a node names → model sent to this connection. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  complete(request: ChatRequest): Promise<ModelAnswer>;
}

/** A model's answer to one call, with how it was obtained. */
export interface ModelAnswer {
  readonly response: ChatResponse;
  /** The endpoint that answered (a name from the config, never a key). */
  readonly endpoint: string;
  /** How long the request that answered took, without waits for limits or earlier attempts. */
  readonly latencyMs: number;
  /** Requests sent beyond the first (after 429s, 5xx, timeouts, dropped connections). */
  readonly retries: number;
}

/** A failed call: the row fails with this message; nothing is cached. */
export class ModelCallError extends Error {}
