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
    // The count kept with the dataset's hash: parsing the rows here would hold them in memory
    // for the whole build, which streams them.
    const hash = await context.datasetHash(run.dataset);
    if (!hash.ok) return undefined;
    const count = await context.datasetRowCount(run.dataset, hash.value);
    if (!count.ok) return undefined;
    rows += count.value;
  }
  return { runs: context.selected.length, rows };
}
