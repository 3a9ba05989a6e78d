/**
 * Turns a product's grounding attributes into the two lists the prompts show (the
 * `split_attributes` node): mandatory attributes in listing order, and good-to-have attributes
 * most-often-filled first. `keywords` entries are dropped (they are what is being judged), as
 * are empty values and attributes of any other priority.
 *
 * Both flows include this file (`additional_includes` in their flow.yaml), so it is part of
 * both flows' fingerprints: changing it re-runs every run of both.
 */

/** An attribute as the prompts show it. */
export interface Attribute {
  readonly name: string;
  /** The values of every entry with this name, joined with ", ". */
  readonly value: string;
}

export interface SplitAttributes {
  readonly mandatory: readonly Attribute[];
  /** Sorted by fill rate, descending; attributes without a fill rate last. */
  readonly good_to_have: readonly Attribute[];
}

export function splitAttributes({ attributes }: { readonly attributes: unknown }): SplitAttributes {
  const mandatory = new Map<string, Group>();
  const goodToHave = new Map<string, Group>();

  for (const entry of Array.isArray(attributes) ? attributes : []) {
    const attribute = readEntry(entry);
    if (attribute === undefined || attribute.name === 'keywords') continue;

    const groups =
      attribute.priority === 'mandatory'
        ? mandatory
        : attribute.priority === 'good_to_have'
          ? goodToHave
          : undefined;
    if (groups === undefined) continue;

    const group = groups.get(attribute.name) ?? { values: [], fillRate: null };
    group.values.push(attribute.value);
    // Repeated entries share one row in the prompt; the best-filled one decides its rank.
    if (attribute.fillRate !== null) {
      group.fillRate = Math.max(group.fillRate ?? -Infinity, attribute.fillRate);
    }
    groups.set(attribute.name, group);
  }

  // Array.prototype.sort is stable: equal fill rates keep listing order.
  const ranked = [...goodToHave.entries()].sort(
    ([, a], [, b]) => (b.fillRate ?? -Infinity) - (a.fillRate ?? -Infinity),
  );
  return {
    mandatory: [...mandatory.entries()].map(toAttribute),
    good_to_have: ranked.map(toAttribute),
  };
}

interface Group {
  readonly values: string[];
  fillRate: number | null;
}

interface Entry {
  readonly name: string;
  readonly value: string;
  readonly priority: unknown;
  readonly fillRate: number | null;
}

/** One well-formed entry with a non-empty value, or undefined. */
function readEntry(entry: unknown): Entry | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { name, value, priority, fillRate } = entry as Record<string, unknown>;
  if (typeof name !== 'string') return undefined;

  const text =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
  if (text === '') return undefined;

  const rate = typeof fillRate === 'number' && Number.isFinite(fillRate) ? fillRate : null;
  return { name, value: text, priority, fillRate: rate };
}

function toAttribute([name, group]: [string, Group]): Attribute {
  return { name, value: group.values.join(', ') };
}
