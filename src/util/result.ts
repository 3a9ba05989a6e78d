/**
 * Expected failures (a user's mistake, a failed row) travel as values, so the type checker makes
 * every caller decide what to do with them. Exceptions are kept for bugs.
 */
export type Result<T, E> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** Ends a `switch` over a discriminated union: compiling fails when a case is forgotten. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`internal error: unexpected ${what} ${JSON.stringify(value)}`);
}
