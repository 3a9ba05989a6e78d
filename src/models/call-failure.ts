import OpenAI from 'openai';

/**
 * Why a request to a remote endpoint failed, sorted by what to do about it. `message` is what
 * the row's error will say: the HTTP status and the server's own message, never the request's
 * headers (which hold the key).
 */
export type CallFailure =
  | { readonly kind: 'rate-limited'; readonly message: string; readonly retryAfterMs?: number }
  | { readonly kind: 'transient'; readonly message: string; readonly retryAfterMs?: number }
  | {
      readonly kind: 'fatal';
      readonly message: string;
      /** The endpoint refused the key (401, 403): every other request to it would be too. */
      readonly refusedKey?: boolean;
    };

/** Socket-level error codes that mean "the connection went away", not "the request is bad". */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Classifies an error thrown by the openai client (created with its own retries off). */
export function failureOf(error: unknown, timeoutMs: number): CallFailure {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return { kind: 'transient', message: `no answer within ${formatSeconds(timeoutMs)}` };
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return { kind: 'transient', message: `connection failed (${causeOf(error)})` };
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    const status = error.status;
    const message = `HTTP ${status}: ${serverMessage(error)}`;
    const retryAfterMs = retryAfter(error.headers);
    const wait = retryAfterMs === undefined ? {} : { retryAfterMs };
    // An exhausted quota also answers 429, but no amount of waiting helps.
    if (status === 429 && error.code === 'insufficient_quota') return { kind: 'fatal', message };
    if (status === 429) return { kind: 'rate-limited', message, ...wait };
    if (status === 408 || status === 409 || status >= 500) {
      return { kind: 'transient', message, ...wait };
    }
    if (status === 401 || status === 403) return { kind: 'fatal', message, refusedKey: true };
    return { kind: 'fatal', message };
  }
  // A connection dropped while the body was read surfaces as a plain error from fetch.
  if (isConnectionError(error)) {
    return { kind: 'transient', message: `connection failed (${causeOf(error)})` };
  }
  return { kind: 'fatal', message: error instanceof Error ? error.message : String(error) };
}

/**
 * The wait a 429 or 503 asks for: `retry-after-ms` (milliseconds, OpenAI and Azure), else
 * `retry-after` (seconds, or an HTTP date).
 */
export function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);

  const value = headers?.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function serverMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === 'string' && body.message !== '') return body.message;
  // The client's own message starts with the status it was built from.
  return error.message.replace(/^\d{3}\s+/, '');
}

function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (message === 'terminated' || message === 'fetch failed' || message === 'other side closed') {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The innermost cause's code or message: "ECONNRESET", "other side closed". */
function causeOf(error: unknown): string {
  let reason = 'no details';
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') reason = code;
    else if (typeof message === 'string' && message !== '') reason = message;
    current = (current as { cause?: unknown }).cause;
  }
  return reason;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
