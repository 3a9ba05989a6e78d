import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { RawFlow, RawNodeDefinition } from './flow-schema.js';
import { fileKind, resolveProjectPath } from './project-paths.js';
import type { YamlSource } from './yaml-source.js';

/**
 * promptflow's `additional_includes`: files and folders outside the flow folder that the flow
 * uses as if they sat in it, under their own name. promptflow copies them into a snapshot; here
 * a node source that starts with an included name is read from where the file really is, so
 * several flows can share one helper without copies drifting apart.
 */
export interface FlowIncludes {
  /** Included name (a file's or folder's base name) → its path relative to the project root. */
  readonly byName: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

export async function resolveIncludes(
  root: string,
  dir: string,
  raw: RawFlow,
  source: YamlSource,
): Promise<FlowIncludes> {
  const byName = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  for (const [index, written] of (raw.additional_includes ?? []).entries()) {
    const at = ['additional_includes', index];
    const resolved = resolveProjectPath(written, dir);
    if (!resolved.ok) {
      diagnostics.push(source.diagnostic(at, resolved.message, { hint: resolved.hint }));
      continue;
    }
    const inside = (folder: string, file: string) =>
      folder === '' || file === folder || file.startsWith(`${folder}/`);
    if (inside(resolved.path, dir) || inside(dir, resolved.path)) {
      diagnostics.push(
        source.diagnostic(at, `included path \`${written}\` holds the flow folder or is in it`, {
          hint: 'include files or folders from outside the flow folder, such as ../shared/x.ts',
        }),
      );
      continue;
    }
    const kind = await fileKind(root, resolved.path);
    if (kind === 'missing') {
      diagnostics.push(
        source.diagnostic(at, `included path \`${written}\` does not exist`, {
          hint: `it is read relative to the flow folder \`${dir}\`, as \`${resolved.path}\``,
        }),
      );
      continue;
    }
    const name = path.posix.basename(resolved.path);
    const earlier = byName.get(name);
    if (earlier !== undefined) {
      diagnostics.push(
        source.diagnostic(at, `two included paths are both named \`${name}\``, {
          hint: `\`${earlier}\` is included under that name already; rename one of them`,
        }),
      );
      continue;
    }
    if ((await fileKind(root, path.posix.join(dir, name))) !== 'missing') {
      diagnostics.push(
        source.diagnostic(at, `the flow folder already has \`${name}\``, {
          hint: 'an included file must not shadow a file of the flow; rename one of them',
        }),
      );
      continue;
    }
    byName.set(name, resolved.path);
  }
  return { byName, diagnostics };
}

/**
 * The flow with every node source that names an included file rewritten to that file's path
 * relative to the flow folder (`split.ts` → `../shared/split.ts`), so that everything after
 * loading reads, checks and fingerprints the real file.
 */
export function applyIncludes(raw: RawFlow, dir: string, includes: FlowIncludes): RawFlow {
  if (includes.byName.size === 0) return raw;
  const rewrite = <T extends RawNodeDefinition>(node: T): T => {
    const written = node.source?.path;
    if (written === undefined) return node;
    const [first, ...rest] = path.posix.normalize(written).split('/');
    const included = includes.byName.get(first ?? '');
    if (included === undefined) return node;
    const real = path.posix.join(included, ...rest);
    return { ...node, source: { ...node.source, path: path.posix.relative(dir, real) } };
  };
  return {
    ...raw,
    nodes: raw.nodes.map(rewrite),
    ...(raw.node_variants && {
      node_variants: Object.fromEntries(
        Object.entries(raw.node_variants).map(([name, entry]) => [
          name,
          {
            ...entry,
            variants: Object.fromEntries(
              Object.entries(entry.variants).map(([id, variant]) => [
                id,
                { ...variant, node: rewrite(variant.node) },
              ]),
            ),
          },
        ]),
      ),
    }),
  };
}
