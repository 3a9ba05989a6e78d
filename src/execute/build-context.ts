import type { LoadedProject } from '../config/types.js';
import { readDataset } from '../data/read-dataset.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hashFlowFiles, hashProjectFile } from '../fingerprint/flow-files.js';
import type { ContentHash } from '../fingerprint/hash.js';
import { connectionIdentity, type ConnectionIdentity } from '../fingerprint/run-fingerprint.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { RunGraph } from '../plan/run-graph.js';
import type { RunId } from '../plan/run-id.js';
import { expandRuns } from '../plan/expand-runs.js';
import { fail, ok, type Result } from '../util/result.js';
import type { SourceRow } from './execute-run.js';

/** A dataset as read for this build. */
export interface LoadedDataset {
  readonly rows: readonly SourceRow[];
  readonly contentHash: ContentHash;
}

/**
 * What planning produces and every later step shares: the run graph, the runs selected by the
 * targets, and memoised reads of datasets, flow files and connection modules, so that each is
 * read and hashed once per build however many runs use it.
 */
export class BuildContext {
  private readonly datasets = new Map<string, Promise<Result<LoadedDataset, Diagnostic[]>>>();
  private readonly flowFiles = new Map<string, Promise<Record<string, ContentHash>>>();
  private readonly moduleHashes = new Map<string, Promise<ContentHash>>();

  private constructor(
    readonly project: LoadedProject,
    readonly graph: RunGraph,
    readonly selected: readonly PlannedRun[],
    readonly connectionOverride: string | undefined,
  ) {}

  get root(): string {
    return this.project.experiment.root;
  }

  /**
   * Plans the experiment and selects the runs `targets` name (run ids or stage names) with
   * everything they need; all runs when there are no targets.
   */
  static create(
    project: LoadedProject,
    targets: readonly string[],
    connectionOverride?: string,
  ): Result<BuildContext, Diagnostic[]> {
    const runs = expandRuns(project);
    if (!runs.ok) return runs;
    const graph = new RunGraph(runs.value);

    if (
      connectionOverride !== undefined &&
      !(connectionOverride in project.experiment.connections)
    ) {
      return fail([
        {
          message: `--connection ${connectionOverride}: no such connection`,
          hint: `use one of: ${Object.keys(project.experiment.connections).join(', ')}`,
        },
      ]);
    }

    if (targets.length === 0)
      return ok(new BuildContext(project, graph, runs.value, connectionOverride));

    const wanted: RunId[] = [];
    const errors: Diagnostic[] = [];
    for (const target of targets) {
      const matching = runs.value.filter((run) => run.id === target || run.stage.name === target);
      if (matching.length === 0) {
        errors.push({
          message: `"${target}" is neither a stage nor a run of this experiment`,
          hint: `stages: ${project.experiment.stages.map((stage) => stage.name).join(', ')}; \`kwgraph graph\` lists the runs`,
        });
      }
      wanted.push(...matching.map((run) => run.id));
    }
    if (errors.length > 0) return fail(errors);
    return ok(new BuildContext(project, graph, graph.closure(wanted), connectionOverride));
  }

  dataset(name: string): Promise<Result<LoadedDataset, Diagnostic[]>> {
    const known = this.datasets.get(name);
    if (known !== undefined) return known;
    const config = this.project.experiment.datasets[name];
    if (config === undefined) throw new Error(`internal error: unknown dataset ${name}`);
    const loaded = readDataset(this.root, config);
    this.datasets.set(name, loaded);
    return loaded;
  }

  flowFileHashes(flowDir: string): Promise<Record<string, ContentHash>> {
    let hashes = this.flowFiles.get(flowDir);
    if (hashes === undefined) {
      hashes = hashFlowFiles(this.root, flowDir);
      this.flowFiles.set(flowDir, hashes);
    }
    return hashes;
  }

  async connectionIdentity(name: string): Promise<ConnectionIdentity> {
    const connection = this.project.experiment.connections[name];
    if (connection === undefined) throw new Error(`internal error: unknown connection ${name}`);
    if (connection.kind !== 'module') return connectionIdentity(connection, undefined);
    return connectionIdentity(connection, await this.moduleHash(connection.module));
  }

  moduleHash(file: string): Promise<ContentHash> {
    let hash = this.moduleHashes.get(file);
    if (hash === undefined) {
      hash = hashProjectFile(this.root, file);
      this.moduleHashes.set(file, hash);
    }
    return hash;
  }
}
