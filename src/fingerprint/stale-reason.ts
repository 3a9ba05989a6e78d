import type { JsonValue } from '../config/types.js';
import type { RunId } from '../plan/run-id.js';
import { assertNever } from '../util/result.js';
import { canonicalJson } from './canonical-json.js';

/** What kind of flow file changed, for messages: `prompt flows/x/a.jinja2 changed`. */
export type FileRole = 'prompt' | 'code' | 'flow' | 'file';

/**
 * Why a run must be (re)built, as data: `status --json` and `build --json` give these, and
 * `describeReason` turns each into the line a person reads. Each names one thing.
 */
export type StaleReason =
  | { readonly kind: 'never-built' }
  /** A build of the run started and did not finish (stopped, killed, crashed). */
  | { readonly kind: 'unfinished' }
  /** Another build is executing the run now. */
  | { readonly kind: 'in-progress'; readonly pid?: number }
  /** The manifest is there but outputs.jsonl is missing or not what the build wrote. */
  | { readonly kind: 'outputs-changed' }
  | { readonly kind: 'cache-format'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'variant';
      readonly from: Readonly<Record<string, string>>;
      readonly to: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'file';
      readonly file: string;
      readonly role: FileRole;
      readonly change: 'added' | 'removed' | 'changed';
    }
  | {
      readonly kind: 'setting';
      readonly name: string;
      /** Absent when the setting was not set. */
      readonly from?: JsonValue;
      readonly to?: JsonValue;
    }
  | {
      readonly kind: 'input-mapping';
      readonly input: string;
      readonly from?: JsonValue;
      readonly to?: JsonValue;
    }
  | { readonly kind: 'connection'; readonly name: string; readonly module?: string }
  | { readonly kind: 'dataset-path'; readonly from: string; readonly to: string }
  /** Rows of the dataset file changed, were added or removed, counted by row key. */
  | {
      readonly kind: 'dataset-rows';
      readonly file: string;
      readonly changed: number;
      readonly added: number;
      readonly removed: number;
    }
  /** The dataset file changed, and which rows is unknown (or none: reordered, reformatted). */
  | { readonly kind: 'dataset-file'; readonly file: string; readonly rowsChanged: 0 | null }
  | { readonly kind: 'images'; readonly file: string }
  | {
      readonly kind: 'upstream';
      readonly run: RunId;
      /**
       * `re-ran`: the upstream run was rebuilt since this one was built; `will-re-run`: it is
       * stale itself (status); `now-reads`: the lineage now names another run of the stage.
       */
      readonly change: 're-ran' | 'will-re-run' | 'now-reads';
    }
  | { readonly kind: 'no-longer-reads'; readonly stage: string }
  | { readonly kind: 'failed-rows'; readonly count: number }
  | { readonly kind: 'aggregation-failed' }
  | { readonly kind: 'forced' }
  | { readonly kind: 'no-cache' }
  /** The fingerprint differs in a way no other reason names. */
  | { readonly kind: 'fingerprint' };

/** The reason as a person reads it: `prompt flows/validate/top5.jinja2 changed`. */
export function describeReason(reason: StaleReason): string {
  switch (reason.kind) {
    case 'never-built':
      return 'never built';
    case 'unfinished':
      return 'its last build did not finish';
    case 'in-progress':
      return `being built${reason.pid === undefined ? '' : ` by pid ${reason.pid}`}`;
    case 'outputs-changed':
      return 'its outputs.jsonl is missing or was changed';
    case 'cache-format':
      return `kwgraph cache format changed (${reason.from} → ${reason.to})`;
    case 'variant':
      return `variant changed (${canonicalJson(reason.from)} → ${canonicalJson(reason.to)})`;
    case 'file':
      return `${reason.role} ${reason.file} ${reason.change}`;
    case 'setting':
      return `setting ${reason.name} ${show(reason.from)} → ${show(reason.to)}`;
    case 'input-mapping':
      return `input mapping ${reason.input} ${show(reason.from)} → ${show(reason.to)}`;
    case 'connection':
      return reason.module
        ? `connection ${reason.name} changed (${reason.module})`
        : `connection ${reason.name} changed`;
    case 'dataset-path':
      return `dataset ${reason.from} → ${reason.to}`;
    case 'dataset-rows': {
      const parts: string[] = [];
      if (reason.changed > 0) parts.push(`${rows(reason.changed)} of ${reason.file} changed`);
      if (reason.added > 0) parts.push(`${rows(reason.added)} added to ${reason.file}`);
      if (reason.removed > 0) parts.push(`${rows(reason.removed)} removed from ${reason.file}`);
      return parts.join(', ');
    }
    case 'dataset-file':
      return reason.rowsChanged === 0
        ? `${reason.file} changed (no row's content changed: order or layout)`
        : `${reason.file} changed`;
    case 'images':
      return `images referenced by ${reason.file} changed`;
    case 'upstream':
      return upstreamText(reason.run, reason.change);
    case 'no-longer-reads':
      return `no longer reads ${reason.stage}`;
    case 'failed-rows':
      return `${rows(reason.count)} failed last time`;
    case 'aggregation-failed':
      return 'its aggregation failed last time';
    case 'forced':
      return '--force';
    case 'no-cache':
      return '--no-cache';
    case 'fingerprint':
      return 'fingerprint changed';
    default:
      return assertNever(reason, 'stale reason');
  }
}

function upstreamText(
  run: RunId,
  change: Extract<StaleReason, { kind: 'upstream' }>['change'],
): string {
  switch (change) {
    case 're-ran':
      return `upstream ${run} re-ran`;
    case 'will-re-run':
      return `upstream ${run} will re-run`;
    case 'now-reads':
      return `now reads ${run}`;
    default:
      return assertNever(change, 'upstream change');
  }
}

function rows(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'row' : 'rows'}`;
}

function show(value: unknown): string {
  if (value === undefined) return '(unset)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
