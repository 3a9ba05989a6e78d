import { readFile } from 'node:fs/promises';

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by package,
 * and inclusive time of the functions matching an optional filter. Used to find where a
 * benchmark's CPU goes:
 *
 *   npx tsx bench/summarise-profile.ts CPU.….cpuprofile [top N] [inclusive-filter]
 */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, topArg, filter] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: summarise-profile.ts <file.cpuprofile> [top] [filter]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const selfUs = new Map<number, number>();
profile.samples.forEach((id, index) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};
const packageOf = (node: ProfileNode) => {
  const url = node.callFrame.url;
  if (url === '') return node.callFrame.functionName || '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match?.[1] !== undefined) return match[1];
  if (url.startsWith('node:internal/deps/')) return url.split('/')[2] ?? url;
  if (url.startsWith('node:internal/')) return `node:${url.split('/')[1] ?? ''}`;
  if (url.startsWith('node:')) return url;
  if (url.includes('/dist/')) return 'kwgraph ' + (url.split('/dist/')[1]?.split('/')[0] ?? '');
  return url.split('/').slice(-2).join('/');
};

const add = (map: Map<string, number>, key: string, value: number) =>
  map.set(key, (map.get(key) ?? 0) + value);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (node === undefined) continue;
  add(byFunction, label(node), us);
  add(byPackage, packageOf(node), us);
}

// A reader piping into `head` closes stdout early; that is not an error.
process.stdout.on('error', () => process.exit(0));

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = ((us / total) * 100).toFixed(1).padStart(5);
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(8)} ms ${share} %  ${key}\n`);
  }
};
process.stdout.write(`total sampled: ${(total / 1000).toFixed(0)} ms\n`);
print('self time by package', byPackage);
print('self time by function', byFunction);

if (filter !== undefined) {
  // Inclusive time: a node's self time plus its descendants', counted once per matching root.
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node === undefined) break;
      const key = label(node);
      if (!key.includes(filter) || seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, us);
    }
  }
  print(`inclusive time of functions matching "${filter}"`, inclusive);
}
