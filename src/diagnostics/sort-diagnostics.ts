import type { Diagnostic } from './diagnostic.js';

/**
 * Diagnostics in reading order: those without a file first, then by file, line and column.
 * Exact repeats (the same finding reached twice, e.g. through two stages sharing a flow) are
 * dropped.
 */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((diagnostic) => {
    const key = JSON.stringify([diagnostic.position, diagnostic.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(compareDiagnostics);
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fileA = a.position?.file;
  const fileB = b.position?.file;
  if (fileA !== fileB) {
    if (fileA === undefined) return -1;
    if (fileB === undefined) return 1;
    return fileA < fileB ? -1 : 1;
  }
  return (
    (a.position?.line ?? 0) - (b.position?.line ?? 0) ||
    (a.position?.column ?? 0) - (b.position?.column ?? 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}
