import type { RunManifest } from '../../runs/run-manifest.js';
import type { RunUsage } from '../../results/run-usage.js';
import { formatCost } from './compare-table.js';
import { formatMetric, plural, seconds, styles } from './format.js';
import { errorLines } from './plain-build-renderer.js';

/** Whether a run's result is what the current plan would build. */
export type RunCurrency =
  | { readonly state: 'current' }
  | { readonly state: 'stale'; readonly reasons: readonly string[] }
  | { readonly state: 'not-in-plan' };

/** A run's manifest as terminal lines: what it is, how it was built, what it cost. */
export function runSummaryLines(
  manifest: RunManifest,
  currency: RunCurrency,
  usage: RunUsage,
  lineage: readonly string[],
  color: boolean,
): string[] {
  const style = styles(color);
  const field = (name: string, value: string) => `  ${style.dim(name.padEnd(12))}${value}`;
  const fingerprint = manifest.fingerprint;
  const lines = [style.bold(manifest.id), ''];

  const status = manifest.status === 'failed' ? style.red('failed') : style.green(manifest.status);
  const state =
    currency.state === 'current'
      ? 'current'
      : currency.state === 'stale'
        ? style.yellow(`stale: ${currency.reasons.join('; ')}`)
        : style.yellow('not in the current plan');
  lines.push(
    field('stage', manifest.stage),
    field('variant', manifest.variant ?? '-'),
    field('status', `${status} · ${state}`),
    field('lineage', lineage.join(' → ')),
    field(
      'built',
      `${manifest.startedAt} → ${manifest.finishedAt} (${seconds(manifest.durationMs)})`,
    ),
    field(
      'rows',
      `${manifest.rows.total} · ${manifest.rows.ok} ok · ${manifest.rows.failed} failed · ` +
        `${manifest.rows.skipped} skipped · ${manifest.rows.cached} from row cache`,
    ),
    field(
      'calls',
      `${manifest.calls.sent} sent · ${manifest.calls.cached} from call cache (its last build); ` +
        `${usage.calls} used by its rows`,
    ),
    field(
      'tokens',
      `${tokens(manifest.tokens)} sent (its last build); ${tokens(usage.tokens)} used by its rows`,
    ),
  );
  if (usage.cost !== undefined) lines.push(field('cost', formatCost(usage.cost)));

  const metrics = Object.entries(manifest.metrics);
  if (metrics.length > 0) {
    lines.push('', style.bold('Metrics'));
    const width = Math.max(...metrics.map(([name]) => name.length));
    for (const [name, value] of metrics)
      lines.push(`  ${name.padEnd(width)}  ${formatMetric(value)}`);
  }

  lines.push('', `${style.bold('Fingerprint')} ${style.dim(manifest.fingerprintHash)}`);
  const nodeVariants = Object.entries(fingerprint.nodeVariants);
  if (nodeVariants.length > 0) {
    lines.push(field('variants', nodeVariants.map(([node, id]) => `${node}=${id}`).join(' ')));
  }
  lines.push(
    field(
      'settings',
      Object.entries(fingerprint.settings)
        .map(
          ([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
        )
        .join(' ') || '-',
    ),
  );
  for (const [name, identity] of Object.entries(fingerprint.connections)) {
    lines.push(
      field(
        'connection',
        identity.kind === 'module'
          ? `${name}: module ${identity.module} ${style.dim(short(identity.moduleHash))}`
          : identity.kind === 'openai'
            ? `${name}: openai ${identity.servers.join(', ') || '(default URL)'}`
            : `${name}: azure_openai ${identity.deployments.join(', ')}`,
      ),
    );
  }
  lines.push(
    field(
      'data',
      `${fingerprint.data.dataset} (${fingerprint.data.path}) ${style.dim(short(fingerprint.data.hash))}`,
    ),
  );
  for (const [file, hash] of Object.entries(fingerprint.files)) {
    lines.push(field('file', `${file} ${style.dim(short(hash))}`));
  }
  for (const [stage, upstream] of Object.entries(fingerprint.upstream)) {
    lines.push(
      field('upstream', `${stage}: ${upstream.run} ${style.dim(short(upstream.fingerprint))}`),
    );
  }

  if (manifest.rowErrors.length > 0) {
    lines.push('', style.bold(`Errors (${plural(manifest.rowErrors.length, 'row')})`));
    for (const line of errorLines(manifest.rowErrors, 10))
      lines.push(`  ${style.red('✗')} ${line}`);
  }
  return lines;
}

function tokens(counts: { total: number; prompt: number; completion: number }): string {
  if (counts.total === 0) return '0';
  return `${counts.total.toLocaleString('en-US')} (${counts.prompt.toLocaleString('en-US')} prompt + ${counts.completion.toLocaleString('en-US')} completion)`;
}

function short(hash: string): string {
  return hash.slice(0, 12);
}
