import type { BuildContext } from '../../execute/build-context.js';
import { computeStatus } from '../../execute/status.js';
import type { ExpectedWork } from '../render/build-progress.js';

/**
 * What a build will do, for the progress bar: the selected runs and the rows of those that will
 * execute (the stale ones, and those `--force` names). Undefined when it cannot be told
 * (the build then reports why).
 */
export async function expectedWork(
  context: BuildContext,
  force: boolean,
): Promise<ExpectedWork | undefined> {
  const status = await computeStatus(context, { force });
  if (!status.ok) return undefined;
  const fresh = new Set(status.value.filter((run) => run.state === 'fresh').map((run) => run.id));
  let rows = 0;
  for (const run of context.selected) {
    if (fresh.has(run.id)) continue;
    const dataset = await context.dataset(run.dataset);
    if (!dataset.ok) return undefined;
    rows += dataset.value.rows.length;
  }
  return { runs: context.selected.length, rows };
}
