import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean, listNames } from './did-you-mean.js';
import type { RawVariant } from './experiment-schema.js';
import { normalizeSettings } from './normalize-settings.js';
import type { FlowConfig, VariantConfig } from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/**
 * Resolves a stage's `variants` list against its flow:
 *
 * - `concise` — a variant of the flow's one node that has variants;
 * - `node.concise` — a variant of the named node;
 * - `{ id, use, settings }` — `use` is either of the above, or a list of them (one per node),
 *   or absent for a variant that only changes settings.
 *
 * The written form's id is the variant's id (`concise`); two entries with the same id are an
 * error, since the id is what tells their runs apart. `flow` is undefined when the flow failed
 * to load: ids are still derived, but nothing is checked against it.
 */
export function resolveVariants(
  stage: string,
  raw: readonly RawVariant[],
  flow: FlowConfig | undefined,
  source: YamlSource,
  at: YamlPath,
): { variants: VariantConfig[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const variants: VariantConfig[] = [];
  const firstSeen = new Map<string, string>();

  raw.forEach((entry, index) => {
    const itemPath = [...at, index];
    const uses =
      typeof entry === 'string'
        ? [{ written: entry, path: itemPath }]
        : toList(entry.use).map((written, useIndex) => ({
            written,
            path:
              typeof entry.use === 'string' ? [...itemPath, 'use'] : [...itemPath, 'use', useIndex],
          }));

    const nodeVariants: Record<string, string> = {};
    for (const use of uses) {
      const resolved = resolveUse(use.written, flow);
      if (!resolved.ok) {
        diagnostics.push(source.diagnostic(use.path, resolved.message, { hint: resolved.hint }));
        continue;
      }
      // Without a flow the node of `concise` is unknown; the flow's own error says why.
      if (resolved.node === '') continue;
      if (resolved.node in nodeVariants) {
        diagnostics.push(
          source.diagnostic(use.path, `variant chooses node \`${resolved.node}\` twice`, {
            hint: 'a variant picks at most one variant per node',
          }),
        );
        continue;
      }
      nodeVariants[resolved.node] = resolved.variant;
    }

    const id = typeof entry === 'string' ? variantPart(entry) : entry.id;
    const position = source.locate(itemPath).position;
    const first = firstSeen.get(id);
    if (first !== undefined) {
      diagnostics.push(
        source.diagnostic(
          itemPath,
          `duplicate variant id \`${id}\` in stage \`${stage}\` (first at ${first})`,
          {
            hint:
              'run ids must differ: give one an explicit id, ' +
              'e.g. `{ id: other, use: node.variant }`',
          },
        ),
      );
    } else {
      firstSeen.set(id, `${position.line}:${position.column}`);
    }

    const settings = typeof entry === 'string' ? {} : normalizeSettings(entry.settings);
    variants.push({ id, nodeVariants, settings, position });
  });

  return { variants, diagnostics };
}

type ResolvedUse =
  | { readonly ok: true; readonly node: string; readonly variant: string }
  | { readonly ok: false; readonly message: string; readonly hint: string };

function resolveUse(written: string, flow: FlowConfig | undefined): ResolvedUse {
  const dot = written.indexOf('.');
  const variant = variantPart(written);
  if (flow === undefined)
    return { ok: true, node: dot === -1 ? '' : written.slice(0, dot), variant };

  const varianted = Object.keys(flow.nodeVariants);
  let node: string;
  if (dot === -1) {
    if (varianted.length !== 1) {
      return {
        ok: false,
        message:
          varianted.length === 0
            ? `flow \`${flow.dir}\` has no node with variants, ` +
              `so variant \`${written}\` names nothing`
            : `variant \`${written}\` is ambiguous: flow \`${flow.dir}\` has several nodes ` +
              `with variants (${listNames(varianted)})`,
        hint:
          varianted.length === 0
            ? 'give a node `use_variants: true` and node_variants in the flow, or drop the variant'
            : `write \`node.${written}\`, e.g. \`${varianted[0] ?? ''}.${written}\``,
      };
    }
    node = varianted[0] ?? '';
  } else {
    node = written.slice(0, dot);
  }

  const options = flow.nodeVariants[node];
  if (options === undefined) {
    const exists = flow.nodes.some((candidate) => candidate.name === node);
    return {
      ok: false,
      message: exists
        ? `node \`${node}\` of flow \`${flow.dir}\` has no variants`
        : `flow \`${flow.dir}\` has no node \`${node}\`${didYouMean(node, varianted)}`,
      hint:
        varianted.length > 0
          ? `nodes with variants: ${varianted.join(', ')}`
          : 'the flow has no node with variants',
    };
  }

  const ids = Object.keys(options.variants);
  if (!ids.includes(variant) || written.indexOf('.', dot + 1) !== -1) {
    return {
      ok: false,
      message: `unknown variant \`${variant}\` of node \`${node}\`${didYouMean(variant, ids)}`,
      hint: `variants of \`${node}\` in ${flow.file}: ${ids.join(', ')}`,
    };
  }
  return { ok: true, node, variant };
}

/** `concise` of `describe.concise` (or of `concise`). */
function variantPart(written: string): string {
  const dot = written.indexOf('.');
  return dot === -1 ? written : written.slice(dot + 1);
}

function toList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}
