import type { ConnectionConfig, TokenPrice } from '../config/types.js';
import type { ChatUsage } from './chat.js';

/**
 * The price a connection's `pricing` gives a model: the model's own entry, else the price for
 * every model; undefined when the config names none (the call then counts no cost).
 */
export function priceOf(
  connection: ConnectionConfig | undefined,
  model: string | undefined,
): TokenPrice | undefined {
  if (connection === undefined || connection.kind === 'module') return undefined;
  const pricing = connection.pricing;
  if (pricing === undefined) return undefined;
  return (model === undefined ? undefined : pricing.models[model]) ?? pricing.all;
}

/** Estimated cost in USD of a call's usage; prices are per 1M tokens. */
export function costOf(price: TokenPrice, usage: ChatUsage): number {
  return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000;
}
