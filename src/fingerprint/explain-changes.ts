import type { JsonValue } from '../config/types.js';
import { canonicalJson } from './canonical-json.js';
import type { RunFingerprint } from './run-fingerprint.js';
import type { FileRole, StaleReason } from './stale-reason.js';

/**
 * Why a run must be rebuilt, in the user's terms: which file, setting, input or upstream run
 * differs between the fingerprint it was built with and the one it would be built with now.
 * Compared field by field, so every reason names one thing. Which rows of a changed dataset
 * changed is not in the fingerprint; the caller refines `dataset-file` from the run's index.
 */
export function explainChanges(before: RunFingerprint, after: RunFingerprint): StaleReason[] {
  if (before.version !== after.version) {
    return [{ kind: 'cache-format', from: before.version, to: after.version }];
  }

  const reasons: StaleReason[] = [];
  if (
    before.variant !== after.variant ||
    canonicalJson(before.nodeVariants) !== canonicalJson(after.nodeVariants)
  ) {
    reasons.push({ kind: 'variant', from: before.nodeVariants, to: after.nodeVariants });
  }
  if ((before.sample ?? 1) !== (after.sample ?? 1)) {
    reasons.push({
      kind: 'setting',
      name: 'sample',
      from: before.sample ?? 1,
      to: after.sample ?? 1,
    });
  }

  for (const file of union(before.files, after.files)) {
    const was = before.files[file];
    const now = after.files[file];
    if (was === now) continue;
    const role = fileRole(file);
    if (was === undefined) reasons.push({ kind: 'file', file, role, change: 'added' });
    else if (now === undefined) reasons.push({ kind: 'file', file, role, change: 'removed' });
    else reasons.push({ kind: 'file', file, role, change: 'changed' });
  }

  for (const key of union(before.settings, after.settings)) {
    const was = before.settings[key];
    const now = after.settings[key];
    if (canonicalJson(was) === canonicalJson(now)) continue;
    reasons.push(withValues({ kind: 'setting', name: key }, was, now));
  }
  if ((before.onFailedRows ?? 'skip') !== (after.onFailedRows ?? 'skip')) {
    reasons.push({
      kind: 'setting',
      name: 'on_failed_rows',
      from: before.onFailedRows ?? 'skip',
      to: after.onFailedRows ?? 'skip',
    });
  }

  for (const input of union(before.inputs, after.inputs)) {
    const was = before.inputs[input];
    const now = after.inputs[input];
    if (canonicalJson(was) !== canonicalJson(now)) {
      reasons.push(withValues({ kind: 'input-mapping', input }, was, now));
    }
  }

  for (const name of union(before.connections, after.connections)) {
    if (canonicalJson(before.connections[name]) === canonicalJson(after.connections[name]))
      continue;
    // A connection used or no longer used shows as a changed `<node>.connection` setting.
    if (before.connections[name] === undefined || after.connections[name] === undefined) continue;
    const identity = after.connections[name];
    reasons.push(
      identity?.kind === 'module'
        ? { kind: 'connection', name, module: identity.module }
        : { kind: 'connection', name },
    );
  }

  if (before.data.path !== after.data.path) {
    reasons.push({ kind: 'dataset-path', from: before.data.path, to: after.data.path });
  } else if (before.data.hash !== after.data.hash) {
    reasons.push({ kind: 'dataset-file', file: after.data.path, rowsChanged: null });
  } else if (before.data.images !== after.data.images) {
    reasons.push({ kind: 'images', file: after.data.path });
  }

  for (const stage of union(before.upstream, after.upstream)) {
    const was = before.upstream[stage];
    const now = after.upstream[stage];
    if (canonicalJson(was) === canonicalJson(now)) continue;
    if (now === undefined) reasons.push({ kind: 'no-longer-reads', stage });
    else if (was === undefined || was.run !== now.run) {
      reasons.push({ kind: 'upstream', run: now.run, change: 'now-reads' });
    } else reasons.push({ kind: 'upstream', run: now.run, change: 're-ran' });
  }

  return reasons.length > 0 ? reasons : [{ kind: 'fingerprint' }];
}

function withValues<T extends object>(
  reason: T,
  from: JsonValue | undefined,
  to: JsonValue | undefined,
): T & { from?: JsonValue; to?: JsonValue } {
  return {
    ...reason,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

function fileRole(file: string): FileRole {
  if (/\.(jinja2?|j2|prompty|md|txt)$/.test(file)) return 'prompt';
  if (/\.(ts|js|mjs|cjs|mts|py)$/.test(file)) return 'code';
  if (/flow(\.dag)?\.ya?ml$/.test(file)) return 'flow';
  return 'file';
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}
