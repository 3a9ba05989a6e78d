import { canonicalJson } from './canonical-json.js';
import type { RunFingerprint } from './run-fingerprint.js';

/**
 * Why a run must be rebuilt, in the user's terms: which file, setting, input or upstream run
 * differs between the fingerprint it was built with and the one it would be built with now.
 * Compared field by field, so every reason names one thing.
 */
export function explainChanges(before: RunFingerprint, after: RunFingerprint): string[] {
  if (before.version !== after.version) {
    return [`kwgraph cache format changed (${before.version} → ${after.version})`];
  }

  const reasons: string[] = [];
  if (
    before.variant !== after.variant ||
    canonicalJson(before.nodeVariants) !== canonicalJson(after.nodeVariants)
  ) {
    reasons.push(
      `variant changed (${canonicalJson(before.nodeVariants)} → ${canonicalJson(after.nodeVariants)})`,
    );
  }

  for (const file of union(before.files, after.files)) {
    const was = before.files[file];
    const now = after.files[file];
    if (was === now) continue;
    const kind = fileKind(file);
    if (was === undefined) reasons.push(`${kind} ${file} added`);
    else if (now === undefined) reasons.push(`${kind} ${file} removed`);
    else reasons.push(`${kind} ${file} changed`);
  }

  for (const key of union(before.settings, after.settings)) {
    const was = before.settings[key];
    const now = after.settings[key];
    if (canonicalJson(was) === canonicalJson(now)) continue;
    reasons.push(`setting ${key} ${show(was)} → ${show(now)}`);
  }

  for (const input of union(before.inputs, after.inputs)) {
    if (canonicalJson(before.inputs[input]) !== canonicalJson(after.inputs[input])) {
      reasons.push(
        `input mapping ${input} ${show(before.inputs[input])} → ${show(after.inputs[input])}`,
      );
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
        ? `connection ${name} changed (${identity.module})`
        : `connection ${name} changed`,
    );
  }

  if (before.data.path !== after.data.path) {
    reasons.push(`dataset ${before.data.path} → ${after.data.path}`);
  } else if (before.data.hash !== after.data.hash) {
    reasons.push(`${after.data.path} changed`);
  } else if (before.data.images !== after.data.images) {
    reasons.push(`images referenced by ${after.data.path} changed`);
  }

  for (const stage of union(before.upstream, after.upstream)) {
    const was = before.upstream[stage];
    const now = after.upstream[stage];
    if (canonicalJson(was) === canonicalJson(now)) continue;
    if (now === undefined) reasons.push(`no longer reads ${stage}`);
    else if (was === undefined || was.run !== now.run) reasons.push(`now reads ${now.run}`);
    else reasons.push(`upstream ${now.run} changed`);
  }

  return reasons.length > 0 ? reasons : ['fingerprint changed'];
}

function fileKind(file: string): string {
  if (/\.(jinja2?|j2|prompty|md|txt)$/.test(file)) return 'prompt';
  if (/\.(ts|js|mjs|cjs|mts|py)$/.test(file)) return 'code';
  if (/flow(\.dag)?\.ya?ml$/.test(file)) return 'flow';
  return 'file';
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function show(value: unknown): string {
  if (value === undefined) return '(unset)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
