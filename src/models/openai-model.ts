import { setTimeout as sleep } from 'node:timers/promises';

import type { RemoteConnectionConfig } from '../config/types.js';
import { connectionIdentity } from '../fingerprint/run-fingerprint.js';
import { redact } from '../util/redact.js';
import { failureOf, type CallFailure } from './call-failure.js';
import type { ChatRequest } from './chat.js';
import { ModelCallError, type ChatModel, type ModelAnswer } from './chat-model.js';
import { EndpointPool } from './endpoint-pool.js';
import { estimateTokens } from './estimate-tokens.js';
import { openAiEndpoint, type RemoteEndpoint } from './openai-endpoint.js';
import { LocalRateLimiter, type RateLimiter } from './rate-limiter.js';
import { nextStep } from './retry-policy.js';

/**
 * An `openai` or `azure_openai` connection: its endpoints in a pool, each paced by its own
 * limiter, and every call retried by the connection's policy. `keys` maps endpoint names to
 * their API keys (absent for a server that takes none); the keys go to the clients and to the
 * redaction of error messages, nowhere else.
 */
export function openAiModel(
  connection: RemoteConnectionConfig,
  keys: ReadonlyMap<string, string>,
  limiterFor: (endpoint: string) => RateLimiter = (name) =>
    new LocalRateLimiter(connection.endpoints.find((e) => e.name === name)?.limits ?? {}),
): ChatModel {
  const pool = new EndpointPool<RemoteEndpoint>(
    connection.endpoints.map((endpoint) => ({
      endpoint: openAiEndpoint(connection, endpoint, keys.get(endpoint.name)),
      limiter: limiterFor(endpoint.name),
    })),
    connection.balance,
  );
  const secrets = [...keys.values()];
  // Endpoints that refused their key in this process, with what they said: a wrong key fails
  // every request alike, so the rest of the build's requests to them are not sent.
  const refused = new Map<string, string>();
  const policy = { maxRetries: connection.maxRetries, backoffMs: connection.backoffMs };

  return {
    name: connection.name,
    identity: connectionIdentity(connection, undefined),
    defaultModel: connection.model,
    ...(connection.modelAliases ? { modelAliases: connection.modelAliases } : {}),

    async complete(request: ChatRequest): Promise<ModelAnswer> {
      const estimatedTokens = estimateTokens(request);
      for (let retries = 0; ; retries++) {
        const lease = await pool.acquire(estimatedTokens);
        const endpoint = lease.endpoint.name;
        const refusal = refused.get(endpoint);
        if (refusal !== undefined) {
          await lease.release({ kind: 'failed', estimatedTokens });
          throw new ModelCallError(
            redact(`${endpoint}: ${refusal} (not sent: it refused the key before)`, secrets),
          );
        }

        let failure: CallFailure;
        try {
          const started = performance.now();
          const response = await lease.endpoint.send(request);
          const latencyMs = Math.round(performance.now() - started);
          await lease.release({
            kind: 'answered',
            estimatedTokens,
            ...(response.usage ? { usedTokens: response.usage.total_tokens } : {}),
          });
          const choice = response.choices[0];
          if (typeof choice?.message.content !== 'string') {
            // Not cached: a filtered or empty answer is worth asking for again next build.
            throw new ModelCallError(
              `${endpoint}: the answer has no text (finish_reason: ${choice?.finish_reason ?? 'none'})`,
            );
          }
          return { response, endpoint, latencyMs, retries };
        } catch (error) {
          if (error instanceof ModelCallError) throw error;
          failure = failureOf(error, connection.timeoutMs);
        }

        if (failure.kind === 'fatal' && failure.refusedKey) refused.set(endpoint, failure.message);
        const step = nextStep(policy, failure, retries);
        await lease.release(
          step.kind === 'pause-endpoint'
            ? { kind: 'rate-limited', estimatedTokens, pauseMs: step.waitMs }
            : { kind: 'failed', estimatedTokens },
        );
        if (step.kind === 'give-up') {
          const gaveUp =
            failure.kind === 'fatal' ? '' : ` (gave up after ${retries} ${retryWord(retries)})`;
          throw new ModelCallError(redact(`${endpoint}: ${failure.message}${gaveUp}`, secrets));
        }
        if (step.kind === 'wait') await sleep(step.waitMs);
      }
    },
  };
}

function retryWord(count: number): string {
  return count === 1 ? 'retry' : 'retries';
}
