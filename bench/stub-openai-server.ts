import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible chat-completions server on 127.0.0.1 for the benchmark. Every
 * answer waits `latencyMs` (settable between measurements, so one server and one base URL serve
 * the whole bench: the URL is part of every run's fingerprint). Answers are deterministic and
 * shaped like the example's models would answer: a validate prompt gets a JSON verdict for every
 * keyword it lists, anything else a short description.
 */
export class StubOpenAiServer {
  latencyMs = 0;
  /** Requests answered since the last `resetCounters`. */
  requests = 0;
  /** The most requests in flight at once since the last `resetCounters`. */
  peakInFlight = 0;
  private inFlight = 0;
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    // Clients keep connections alive between calls; idle ones must not pin the bench open.
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(): Promise<StubOpenAiServer> {
    const stub = new StubOpenAiServer();
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  resetCounters(): void {
    this.requests = 0;
    this.peakInFlight = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `no route ${request.url}` } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const content = answerFor(body);
      this.requests++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: `chatcmpl-${this.requests}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        }),
      );
    } catch (error) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: String(error) } }));
    } finally {
      this.inFlight--;
    }
  }
}

interface ChatBody {
  readonly model: string;
  readonly messages: readonly {
    readonly role: string;
    readonly content: string | readonly { type: string; text?: string }[];
  }[];
}

/** A deterministic answer: keyword verdicts for a validate prompt, else a description. */
export function answerFor(body: ChatBody): string {
  const text = body.messages
    .map((message) =>
      typeof message.content === 'string'
        ? message.content
        : message.content.map((part) => part.text ?? '').join('\n'),
    )
    .join('\n');
  const seed = createHash('sha256').update(text).digest();

  const listed = /Keywords to judge[^\n]*\n([\s\S]*)$/.exec(text);
  if (listed?.[1] !== undefined) {
    const keywords = listed[1]
      .split('\n')
      .filter((line) => line.startsWith('- '))
      .map((line) => line.slice(2).trim());
    return JSON.stringify(
      keywords.map((keyword, index) => ({
        keyword,
        reason: 'stub verdict',
        result: (seed[index % seed.length] ?? 0) % 11,
      })),
    );
  }
  const colours = ['red', 'blue', 'green', 'black', 'white', 'maroon'];
  const colour = colours[(seed[0] ?? 0) % colours.length];
  return `A ${colour} product as the attributes describe it; stub description ${seed.toString('hex', 0, 4)}.`;
}
