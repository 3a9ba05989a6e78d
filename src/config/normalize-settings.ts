import type { RawModelParameters, RawStageSettings } from './common-schema.js';
import type { ModelParameters, StageSettings } from './types.js';

/**
 * Drops keys whose value is undefined, so a resolved config holds only what the user wrote:
 * canonical JSON (and so every fingerprint) does not change when an optional key is added to
 * the schema.
 */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

/** An llm node's `parameters`; `stop: "###"` becomes `["###"]`. */
export function normalizeParameters(raw: RawModelParameters): ModelParameters {
  return compact({
    model: raw.model,
    temperature: raw.temperature,
    top_p: raw.top_p,
    max_tokens: raw.max_tokens,
    seed: raw.seed,
    stop: typeof raw.stop === 'string' ? [raw.stop] : raw.stop,
    response_format: raw.response_format,
    detail: raw.detail,
    presence_penalty: raw.presence_penalty,
    frequency_penalty: raw.frequency_penalty,
  });
}

/** `defaults`, a stage's `settings` or a variant's `settings`. */
export function normalizeSettings(raw: RawStageSettings | undefined): StageSettings {
  if (raw === undefined) return {};
  return compact({
    connection: raw.connection,
    concurrency: raw.concurrency,
    ...normalizeParameters(raw),
  });
}
