/**
 * `text` with every occurrence of any of `secrets` replaced by `***`. Error messages come from
 * servers and libraries kwgraph does not control; anything that could reach a row error, a
 * manifest or the terminal passes through here first.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    // Short values (a placeholder key such as "x") would blank out ordinary words.
    if (secret.length < 8) continue;
    result = result.split(secret).join('***');
  }
  return result;
}
