import type { SourcePosition } from '../config/types.js';

/**
 * A problem in the user's input, located where the user can fix it. Printed as
 * `file:line:col error: message`, followed by the source line with the span underlined and
 * the hint.
 */
export interface Diagnostic {
  readonly message: string;
  /** Where the problem is; absent only when no file is involved (e.g. a missing experiment). */
  readonly position?: SourcePosition;
  /** Length of the span to underline on `position`'s line (1 when unknown). */
  readonly length?: number;
  /** How to fix it, in one sentence. */
  readonly hint?: string;
}
