import type { DatasetConfig, FlowConfig, LoadedProject } from '../config/types.js';
import {
  parseDataset,
  readDataset,
  unreadableDataset,
  type DatasetRow,
} from '../data/read-dataset.js';
import { streamDatasetRows } from '../data/stream-dataset.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { fileHashCacheFor } from '../fingerprint/file-hash-cache.js';
import { hashFlowFiles, hashProjectFile } from '../fingerprint/flow-files.js';
import { hashValue, type ContentHash } from '../fingerprint/hash.js';
import { connectionIdentity, type ConnectionIdentity } from '../fingerprint/run-fingerprint.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { RunGraph } from '../plan/run-graph.js';
import type { RunId } from '../plan/run-id.js';
import { expandRuns } from '../plan/expand-runs.js';
import { fail, ok, type Result } from '../util/result.js';

/** A dataset as read for this build. */
export interface LoadedDataset {
  readonly rows: readonly DatasetRow[];
  readonly contentHash: ContentHash;
}

/**
 * What planning produces and every later step shares: the run graph, the runs selected by the
 * targets, and memoised reads of datasets, flow files and connection modules, so that each is
 * read and hashed once per build however many runs use it.
 */
export class BuildContext {
  private readonly datasets = new Map<string, Promise<Result<LoadedDataset, Diagnostic[]>>>();
  private readonly datasetHashes = new Map<string, Promise<Result<ContentHash, Diagnostic[]>>>();
  private readonly memos = new Map<string, Promise<unknown>>();
  private readonly flowFiles = new Map<string, Promise<Record<string, ContentHash>>>();
  private readonly moduleHashes = new Map<string, Promise<ContentHash>>();

  private constructor(
    readonly project: LoadedProject,
    readonly graph: RunGraph,
    readonly selected: readonly PlannedRun[],
    readonly connectionOverride: string | undefined,
    /** The runs the targets name themselves (not what they need): what `--force` forces. */
    readonly targeted: ReadonlySet<RunId> = new Set(selected.map((run) => run.id)),
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
    return ok(
      new BuildContext(project, graph, graph.closure(wanted), connectionOverride, new Set(wanted)),
    );
  }

  /**
   * The content hash of a dataset file: what fingerprints need. The rows are parsed (and their
   * problems reported) only when these bytes were never parsed without problems, with this
   * format and key column, before: a build whose runs are all fresh reads no row.
   */
  datasetHash(name: string): Promise<Result<ContentHash, Diagnostic[]>> {
    let hash = this.datasetHashes.get(name);
    if (hash === undefined) {
      hash = this.hashDataset(name);
      this.datasetHashes.set(name, hash);
    }
    return hash;
  }

  private async hashDataset(name: string): Promise<Result<ContentHash, Diagnostic[]>> {
    const config = this.datasetConfig(name);
    const files = await fileHashCacheFor(this.root);
    const hash = await files.hashIfExists(config.path);
    if (hash === null) {
      // Missing or unreadable: reading it says which, in the user's terms.
      const read = await readDataset(this.root, config);
      return read.ok ? ok(read.value.contentHash) : read;
    }

    if ((await files.derived(parsesKey(config, hash))) !== undefined) return ok(hash);
    return this.checkDataset(config);
  }

  /**
   * Parses a dataset to report its problems, and remembers that these bytes parse, with how
   * many rows. The rows are not kept: a run streams them (`streamRows`).
   */
  private async checkDataset(config: DatasetConfig): Promise<Result<ContentHash, Diagnostic[]>> {
    const loaded = await this.readRows(config);
    if (!loaded.ok) return loaded;
    const files = await fileHashCacheFor(this.root);
    const rows = String(loaded.value.rows.length);
    await files.remember(parsesKey(config, loaded.value.contentHash), { value: rows, files: [] });
    return ok(loaded.value.contentHash);
  }

  /** How many rows a dataset has, as fingerprinted (its hash checked for this build). */
  async datasetRowCount(
    name: string,
    fingerprinted: ContentHash,
  ): Promise<Result<number, Diagnostic[]>> {
    const config = this.datasetConfig(name);
    const files = await fileHashCacheFor(this.root);
    const known = await files.derived(parsesKey(config, fingerprinted));
    // Stores from before the count was kept say only "ok".
    if (known !== undefined && /^\d+$/.test(known)) return ok(Number(known));
    const rows = await this.datasetRows(name, fingerprinted);
    return rows.ok ? ok(rows.value.length) : rows;
  }

  /**
   * A dataset's rows as a run reads them: parsed one at a time from the file, in order. The
   * bytes must be those fingerprinted: an edit since is refused here when the file's stat says
   * so, and otherwise found once it is read (`DatasetChanged`).
   */
  async streamRows(
    name: string,
    fingerprinted: ContentHash,
  ): Promise<Result<AsyncIterable<DatasetRow>, Diagnostic[]>> {
    const config = this.datasetConfig(name);
    const files = await fileHashCacheFor(this.root);
    if ((await files.hashIfExists(config.path)) !== fingerprinted) {
      return fail([changedWhileReading(config)]);
    }
    return ok(streamDatasetRows(this.root, config, fingerprinted));
  }

  /**
   * A dataset's rows, parsed once per build.
   *
   * NOTE: the whole file is parsed and kept for the build (about 1.5 KB of memory per 1 KB
   * row). Runs stream their rows (`streamRows`); what still reads them whole: the check of a
   * file never seen before, the hashes of the images rows point at (once per file version),
   * the dataset-rows reason of a stale run, and the result commands.
   */
  dataset(name: string): Promise<Result<LoadedDataset, Diagnostic[]>> {
    const known = this.datasets.get(name);
    if (known !== undefined) return known;
    const loaded = this.readRows(this.datasetConfig(name));
    this.datasets.set(name, loaded);
    return loaded;
  }

  /**
   * The rows a run executes on: the dataset as it was fingerprinted. A file edited since it
   * was hashed would give rows that the fingerprint does not describe; that is refused.
   */
  async datasetRows(
    name: string,
    fingerprinted: ContentHash,
  ): Promise<Result<readonly DatasetRow[], Diagnostic[]>> {
    const dataset = await this.dataset(name);
    if (!dataset.ok) return dataset;
    if (dataset.value.contentHash !== fingerprinted) {
      return fail([changedWhileReading(this.datasetConfig(name))]);
    }
    return ok(dataset.value.rows);
  }

  private async readRows(config: DatasetConfig): Promise<Result<LoadedDataset, Diagnostic[]>> {
    const files = await fileHashCacheFor(this.root);
    let read: { bytes: Buffer; hash: ContentHash };
    try {
      read = await files.read(config.path);
    } catch (error) {
      return fail([unreadableDataset(config, error)]);
    }
    return parseDataset(read.bytes, read.hash, config);
  }

  private datasetConfig(name: string): DatasetConfig {
    const config = this.project.experiment.datasets[name];
    if (config === undefined) throw new Error(`internal error: unknown dataset ${name}`);
    return config;
  }

  /** `compute()` once per build for each key; later asks share its result. */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.memos.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = compute();
      this.memos.set(key, value);
    }
    return value;
  }

  /** Stores what this build learnt about file contents, for the next build. */
  async saveFileHashes(): Promise<void> {
    await (await fileHashCacheFor(this.root)).save();
  }

  flowFileHashes(flow: FlowConfig): Promise<Record<string, ContentHash>> {
    let hashes = this.flowFiles.get(flow.dir);
    if (hashes === undefined) {
      hashes = hashFlowFiles(this.root, flow.dir, flow.includes);
      this.flowFiles.set(flow.dir, hashes);
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

/** The stat-cache key under which a dataset's bytes are known to parse (value: the row count). */
function parsesKey(config: DatasetConfig, hash: ContentHash): string {
  return `dataset-parses:${hashValue({
    version: CACHE_FORMAT_VERSION,
    hash,
    format: config.format,
    key: config.key ?? null,
  })}`;
}

/** A dataset file edited between being fingerprinted and being read. */
export function changedWhileReading(config: DatasetConfig): Diagnostic {
  return {
    message: `dataset file \`${config.path}\` changed while kwgraph was reading it`,
    position: config.position,
    length: config.name.length,
    hint: 'run the command again once the file is written',
  };
}
