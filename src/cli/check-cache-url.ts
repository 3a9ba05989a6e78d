import { cacheUrlOf, cacheUrlProblem } from '../cache/open-store.js';
import type { LoadedProject } from '../config/types.js';
import { reportDiagnostics } from './load.js';

/**
 * Whether the cache URL in effect can be used; says why not otherwise. experiment.yaml's
 * `cache` was checked when the project loaded; what is left to check is KWGRAPH_CACHE, which
 * wins over it.
 */
export function cacheUrlUsable(project: LoadedProject): boolean {
  const problem = cacheUrlProblem(cacheUrlOf(project.experiment));
  if (problem === undefined) return true;
  reportDiagnostics(project.experiment.root, [
    { message: `KWGRAPH_CACHE: ${problem}`, hint: 'unset it to use the local cache' },
  ]);
  return false;
}
