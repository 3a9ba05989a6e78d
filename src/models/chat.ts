/**
 * The OpenAI chat-completions shapes kwgraph speaks to every connection kind. A `module`
 * connection receives and returns exactly these, so a stand-in model and a remote one are
 * interchangeable.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface TextPart {
  readonly type: 'text';
  readonly text: string;
}

export interface ImagePart {
  readonly type: 'image_url';
  readonly image_url: { readonly url: string; readonly detail?: 'low' | 'high' | 'auto' };
}

export type ContentPart = TextPart | ImagePart;

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string | readonly ContentPart[];
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_tokens?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly response_format?: { readonly type: 'text' | 'json_object' };
  readonly presence_penalty?: number;
  readonly frequency_penalty?: number;
}

export interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface ChatResponse {
  readonly model?: string;
  readonly choices: readonly {
    readonly index?: number;
    readonly message: { readonly role: 'assistant'; readonly content: string | null };
    readonly finish_reason?: string | null;
  }[];
  readonly usage?: ChatUsage;
}

/** An image given to an llm node: a project-relative path, an http(s) URL or a data URL. */
export interface ImageRef {
  readonly kind: 'image';
  readonly source: string;
}

export function isImageRef(value: unknown): value is ImageRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'image' &&
    typeof (value as { source?: unknown }).source === 'string'
  );
}
