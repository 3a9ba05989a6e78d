import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import offlineBaseline from '../../models/offline-baseline.ts';

/**
 * A chat-completions server on 127.0.0.1 for tests: it speaks `POST /v1/chat/completions` (and
 * the Azure form `/openai/deployments/{deployment}/chat/completions?api-version=…`), answers
 * without streaming and with usage, records every request, and fails requests on demand.
 *
 * One server stands in for several endpoints: a path prefix names the endpoint, so
 * `baseUrl('east')` is `http://127.0.0.1:<port>/east/v1`. Answers come from the example's
 * offline baseline, so the example's flows work against it and answers are deterministic.
 * It also serves images for image-URL tests (`serveImage`).
 */

/** A fault injected into a request instead of the normal answer. */
export type Fault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly message?: string;
      readonly code?: string;
      /** Sent as the `Retry-After` header (seconds, or an HTTP date). */
      readonly retryAfter?: string;
      /** Sent as the `retry-after-ms` header. */
      readonly retryAfterMs?: number;
    }
  /** The socket is destroyed once the request has arrived: no status, no body. */
  | { readonly kind: 'drop' }
  /** The answer is sent only after `delayMs` (if the client is still there). */
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface ImagePart {
  readonly url: string;
  readonly detail?: string;
}

export interface RecordedRequest {
  /** Order of arrival, from 0. */
  readonly index: number;
  /** The path prefix naming the endpoint; '' for none. */
  readonly endpoint: string;
  readonly api: 'openai' | 'azure';
  readonly deployment?: string;
  readonly apiVersion?: string;
  /** The key as the client sent it (Bearer token or `api-key` header). */
  readonly key: string | undefined;
  readonly model: string;
  readonly messages: readonly { role: string; content: unknown }[];
  /** Every body field but `model` and `messages`. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly images: readonly ImagePart[];
  /** All text parts of all messages, joined by newlines. */
  readonly text: string;
  /** Identical bodies (a call and its retries) share an id. */
  readonly callId: string;
  /** Date.now() when the request's body had arrived. */
  readonly arrivedAt: number;
  /**
   * What the server did: an HTTP status, `dropped`, `slow` followed by the status, or `aborted`
   * when the client went away before the answer was sent (it never got one).
   */
  outcome: string;
}

interface FaultRule {
  readonly fault: Fault;
  readonly endpoint: string | undefined;
  readonly match: ((request: RecordedRequest) => boolean) | undefined;
  remaining: number;
}

export interface OpenAiTestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The OpenAI-style base URL of an endpoint: `<url>/<endpoint>/v1`. */
  baseUrl(endpoint?: string): string;
  /** The Azure resource URL of an endpoint (the client appends `/openai/...`). */
  azureEndpoint(endpoint?: string): string;
  /** Every request so far, in order of arrival. */
  readonly requests: RecordedRequest[];
  /**
   * Fails the next `times` requests (default 1) that arrive at `endpoint` (any if absent) and
   * satisfy `match`; `times: Infinity` for every one.
   */
  inject(
    fault: Fault,
    options?: {
      endpoint?: string;
      match?: (request: RecordedRequest) => boolean;
      times?: number;
    },
  ): void;
  clearFaults(): void;
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /** The most requests an endpoint had in flight at once. */
  maxInFlight(endpoint?: string): number;
  /** The requests an endpoint has in flight now. */
  inFlightNow(endpoint?: string): number;
  /**
   * Holds every answer until `release()`: requests arrive and wait, so a test can act while
   * clients have requests in flight and know that none of them was answered meanwhile.
   */
  hold(): void;
  release(): void;
  /** Serves `bytes` at `<url>/images/<name>`. */
  serveImage(name: string, bytes: Buffer, contentType?: string): string;
  close(): Promise<void>;
}

const OPENAI_PATH = /^\/(?:([\w-]+)\/)?v1\/chat\/completions$/;
const AZURE_PATH = /^\/(?:([\w-]+)\/)?openai\/deployments\/([^/]+)\/chat\/completions$/;

export async function startOpenAiTestServer(): Promise<OpenAiTestServer> {
  const requests: RecordedRequest[] = [];
  let rules: FaultRule[] = [];
  const images = new Map<string, { bytes: Buffer; contentType: string }>();
  const inFlight = new Map<string, { now: number; max: number }>();
  let held: { promise: Promise<void>; release: () => void } | undefined;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);

    if (req.method === 'GET' && url.pathname.startsWith('/images/')) {
      const image = images.get(decodeURIComponent(url.pathname.slice('/images/'.length)));
      if (image === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': image.contentType }).end(image.bytes);
      return;
    }

    const openai = OPENAI_PATH.exec(url.pathname);
    const azure = AZURE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || (openai === null && azure === null)) {
      sendJson(res, 404, { error: { message: `no route for ${req.method} ${url.pathname}` } });
      return;
    }

    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      sendJson(res, 400, { error: { message: 'the body is not JSON' } });
      return;
    }
    const request = record(parsed, req, url, openai, azure);
    requests.push(request);
    const counter = inFlight.get(request.endpoint) ?? { now: 0, max: 0 };
    inFlight.set(request.endpoint, counter);
    counter.now++;
    counter.max = Math.max(counter.max, counter.now);
    res.on('close', () => counter.now--);

    const rule = rules.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.endpoint === undefined || candidate.endpoint === request.endpoint) &&
        (candidate.match === undefined || candidate.match(request)),
    );
    if (rule !== undefined) rule.remaining--;
    const fault = rule?.fault;

    if (fault?.kind === 'drop') {
      request.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      request.outcome = String(fault.status);
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      sendJson(
        res,
        fault.status,
        {
          error: {
            message: fault.message ?? `injected ${fault.status}`,
            type: fault.status === 429 ? 'rate_limit_error' : 'invalid_request_error',
            code: fault.code ?? null,
          },
        },
        headers,
      );
      return;
    }

    if (parsed['stream'] === true) {
      request.outcome = '400';
      sendJson(res, 400, { error: { message: 'this test server does not stream' } });
      return;
    }

    const answer = await offlineBaseline(parsed as Parameters<typeof offlineBaseline>[0]);
    const completion = {
      id: `chatcmpl-${request.index}`,
      object: 'chat.completion',
      created: Math.floor(request.arrivedAt / 1000),
      ...answer,
      model: request.model,
    };
    if (fault?.kind === 'slow') {
      request.outcome = 'slow';
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
      request.outcome = 'slow 200';
    } else {
      request.outcome = 'pending';
    }
    while (held !== undefined) await held.promise;
    if (res.destroyed || req.socket.destroyed) {
      request.outcome = 'aborted';
      return;
    }
    if (request.outcome === 'pending') request.outcome = '200';
    sendJson(res, 200, completion);
  }

  function record(
    body: Record<string, unknown>,
    req: IncomingMessage,
    url: URL,
    openai: RegExpExecArray | null,
    azure: RegExpExecArray | null,
  ): RecordedRequest {
    const { model, messages, ...params } = body;
    const list = Array.isArray(messages) ? (messages as RecordedRequest['messages']) : [];
    const texts: string[] = [];
    const imageParts: ImagePart[] = [];
    for (const message of list) {
      const parts = typeof message.content === 'string' ? [message.content] : message.content;
      for (const part of Array.isArray(parts) ? (parts as unknown[]) : []) {
        if (typeof part === 'string') texts.push(part);
        const { type, text, image_url: image } = (part ?? {}) as Record<string, unknown>;
        if (type === 'text' && typeof text === 'string') texts.push(text);
        if (type === 'image_url') imageParts.push(image as ImagePart);
      }
    }
    const authorization = req.headers['authorization'];
    const apiKeyHeader = req.headers['api-key'];
    return {
      index: requests.length,
      endpoint: (openai?.[1] ?? azure?.[1]) || '',
      api: azure ? 'azure' : 'openai',
      ...(azure ? { deployment: decodeURIComponent(azure[2] ?? '') } : {}),
      ...(url.searchParams.has('api-version')
        ? { apiVersion: url.searchParams.get('api-version') ?? '' }
        : {}),
      key:
        typeof apiKeyHeader === 'string' ? apiKeyHeader : authorization?.replace(/^Bearer\s+/i, ''),
      model: typeof model === 'string' ? model : '',
      messages: list,
      params,
      images: imageParts,
      text: texts.join('\n'),
      callId: createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16),
      arrivedAt: Date.now(),
      outcome: 'pending',
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const prefix = (endpoint: string) => (endpoint === '' ? '' : `/${endpoint}`);

  return {
    url,
    baseUrl: (endpoint = '') => `${url}${prefix(endpoint)}/v1`,
    azureEndpoint: (endpoint = '') => `${url}${prefix(endpoint)}`,
    requests,
    inject(fault, options = {}) {
      rules.push({
        fault,
        endpoint: options.endpoint,
        match: options.match,
        remaining: options.times ?? 1,
      });
    },
    clearFaults() {
      rules = [];
    },
    clearRequests() {
      requests.length = 0;
    },
    maxInFlight: (endpoint = '') => inFlight.get(endpoint)?.max ?? 0,
    inFlightNow: (endpoint = '') => inFlight.get(endpoint)?.now ?? 0,
    hold() {
      if (held !== undefined) return;
      let release = () => {};
      const promise = new Promise<void>((resolve) => (release = resolve));
      held = { promise, release };
    },
    release() {
      const was = held;
      held = undefined;
      was?.release();
    },
    serveImage(name, bytes, contentType = 'image/png') {
      images.set(name, { bytes, contentType });
      return `${url}/images/${encodeURIComponent(name)}`;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
