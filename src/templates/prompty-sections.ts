/**
 * A `.prompty` file: YAML front matter between two `---` lines (model, parameters, inputs),
 * then a Jinja chat template whose role lines are promptflow's (`system:`, `user:`).
 */

export interface PromptySections {
  /** The YAML between the `---` lines, or undefined when the file has no front matter. */
  readonly frontMatter: string | undefined;
  /** The template: the file with its front matter blanked out, so line numbers stay the file's. */
  readonly body: string;
}

const OPENING = /^\uFEFF?---[^\S\n]*\r?\n/;
const CLOSING = /^---[^\S\n]*$/m;

export function isPromptyFile(file: string): boolean {
  return file.toLowerCase().endsWith('.prompty');
}

/** Splits a .prompty file; a file without an opening `---` line is all template. */
export function splitPrompty(text: string): PromptySections {
  const opening = OPENING.exec(text);
  if (opening === null) return { frontMatter: undefined, body: text };

  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  // An unclosed front matter is all front matter: the YAML error (or the empty template) says so.
  const frontMatter = closing === null ? rest : rest.slice(0, closing.index);
  const consumed = opening[0].length + (closing === null ? rest.length : closing.index + 3);
  const blank = text.slice(0, consumed).replace(/[^\n]/g, '');
  return { frontMatter, body: blank + text.slice(consumed) };
}

/** The template text of a template file: a .prompty file's body, any other file as it is. */
export function templateSource(file: string, text: string): string {
  return isPromptyFile(file) ? splitPrompty(text).body : text;
}
