import type { FlowConfig, StageConfig, VariantConfig } from '../config/types.js';
import type { RunId } from './run-id.js';

/** One run of the experiment: a stage, one of its variants, and one choice of upstream runs. */
export interface PlannedRun {
  readonly id: RunId;
  readonly stage: StageConfig;
  readonly flow: FlowConfig;
  readonly variant: VariantConfig | undefined;
  /** Which sample of a stage with `repeat: N` this run is, from 2 on; absent for the first. */
  readonly sample?: number;
  /** The runs this run reads its rows from, one per stage in the stage's `rows`, in order. */
  readonly upstream: readonly RunId[];
  /** Every ancestor stage → the run of it this run is built on. */
  readonly lineage: Readonly<Record<string, RunId>>;
  /** The dataset at the root of the lineage: every row's `data`. */
  readonly dataset: string;
}
