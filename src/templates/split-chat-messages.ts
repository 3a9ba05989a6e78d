import type { ChatMessage } from '../models/chat.js';
import { fail, ok, type Result } from '../util/result.js';
import { isChatRole, MARKER_LINE } from './role-markers.js';
import { withPosition, type TemplateError } from './template-error.js';

/**
 * Splits a rendered chat template into messages on its role markers (see role-markers.ts),
 * trimming each message and giving it back the text `restore` reveals.
 *
 * Text before the first marker belongs to no message and is an error, as in promptflow (which
 * reads it as a role name and rejects it): guessing "user" or "system" would hide a forgotten
 * marker. Whitespace before the first marker is fine, and a message may be empty.
 */
export function splitChatMessages(
  rendered: string,
  restore: (text: string) => string,
  source: string,
  file: string,
): Result<ChatMessage[], TemplateError> {
  const markers = [...rendered.matchAll(MARKER_LINE)];
  const leading = restore(rendered.slice(0, markers[0]?.index ?? rendered.length)).trim();

  if (leading !== '' || markers.length === 0) {
    const problem =
      markers.length === 0
        ? 'the template has no role lines, so its text belongs to no message'
        : `text before the first role line belongs to no message: "${firstLine(leading)}"`;
    const message = `${problem}; start each message with a line such as "# system:" or "# user:"`;
    return fail(withPosition({ file, message }, lineIn(source, leading), undefined));
  }

  const messages: ChatMessage[] = [];
  for (const [index, marker] of markers.entries()) {
    const role = (marker[1] ?? '').toLowerCase();
    if (!isChatRole(role)) {
      const message = `"${role}" messages are not supported; use system, user or assistant`;
      return fail(withPosition({ file, message }, lineIn(source, marker[0]), undefined));
    }
    const start = marker.index + marker[0].length;
    const end = markers[index + 1]?.index ?? rendered.length;
    messages.push({ role, content: restore(rendered.slice(start, end)).trim() });
  }
  return ok(messages);
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/**
 * The source line that wrote the first line of `text`, when exactly one source line reads the
 * same: rendered text maps back to the source only where the template wrote it literally.
 */
function lineIn(source: string, text: string): number | undefined {
  const wanted = (text.trim().split('\n')[0] ?? '').trim();
  if (wanted === '') return undefined;
  const lines = source.split('\n').map((line) => line.trim());
  const found = lines.indexOf(wanted);
  return found >= 0 && lines.lastIndexOf(wanted) === found ? found + 1 : undefined;
}
