import { existsSync } from 'node:fs';
import path from 'node:path';

import type { PythonFailure } from './python-worker.js';

/**
 * A Python failure as a row error: the exception and the last frames of its traceback (paths
 * relative to the project), or, for a module that is not installed, how to install it, for
 * the interpreter kwgraph used. Nothing is ever installed for the user.
 */
export function describePythonFailure(
  failure: PythonFailure,
  context: { readonly root: string; readonly flowDir: string; readonly interpreter: string },
): string {
  if (failure.setup) return failure.message;

  const headline = `${failure.type}: ${failure.message}`;
  if (failure.missing_module !== undefined) {
    const requirements = path.posix.join(context.flowDir, 'requirements.txt');
    const hint = existsSync(path.join(context.root, requirements))
      ? `install the flow's requirements for ${context.interpreter}: ` +
        `${context.interpreter} -m pip install -r ${requirements}`
      : `install ${failure.missing_module} for ${context.interpreter}, ` +
        'or set KWGRAPH_PYTHON to a Python that has it';
    return `${headline} (${hint})`;
  }

  const frames = (failure.frames ?? []).slice(-FRAMES_SHOWN).map((frame) => {
    const relative = path.relative(context.root, frame.file);
    const shown =
      relative.startsWith('..') || path.isAbsolute(relative)
        ? frame.file
        : relative.split(path.sep).join('/');
    return `  at ${shown}:${frame.line} in ${frame.function}${frame.code ? `: ${frame.code}` : ''}`;
  });
  return [headline, ...frames].join('\n');
}

/** The innermost frames: where the exception was raised and what called it. */
const FRAMES_SHOWN = 3;
