/**
 * The keywords of a row without their labels (the `list_keywords` node). The validate flow
 * receives the labelled `{keyword: "correct" | "incorrect"}` object because that is how the data
 * holds keywords; only its keys may reach a prompt, or the model would be shown the answers.
 */
export function listKeywords({ keywords }: { readonly keywords: unknown }): string[] {
  if (Array.isArray(keywords)) {
    return keywords.filter((keyword): keyword is string => typeof keyword === 'string');
  }
  if (typeof keywords === 'object' && keywords !== null) return Object.keys(keywords);
  return [];
}
