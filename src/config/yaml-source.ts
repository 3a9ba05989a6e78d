import {
  isAlias,
  isCollection,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fail, ok, type Result } from '../util/result.js';
import type { SourcePosition } from './types.js';

/** A path into a YAML document: map keys and sequence indices, as zod reports them. */
export type YamlPath = readonly (string | number)[];

/** A span of one line in a file: where to point and how much to underline. */
export interface Span {
  readonly position: SourcePosition;
  readonly length: number;
}

export interface LocateOptions {
  /** Point at the key of the entry rather than its value (unknown keys, duplicate names). */
  readonly key?: boolean;
  /** Point at this text inside the scalar, when found (a `${...}` reference in a longer value). */
  readonly within?: string;
}

export interface DiagnosticOptions extends LocateOptions {
  readonly hint?: string;
}

/**
 * A parsed YAML file that remembers where everything came from, so any finding about its data
 * (a schema error, a bad reference) can be reported at `file:line:col` with the span underlined.
 * The parsed document is kept (not just its plain data) because it maps paths back to ranges.
 */
export class YamlSource {
  private constructor(
    /** Path relative to the project root, as shown in diagnostics. */
    readonly file: string,
    readonly text: string,
    readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {}

  /**
   * Parses `text`. Syntax errors (including duplicate keys and unresolved aliases) come back as
   * diagnostics; a source is returned only when the document is sound enough to read.
   */
  static parse(file: string, text: string): Result<YamlSource, Diagnostic[]> {
    const lineCounter = new LineCounter();
    // prettyErrors off: the message stays one clean sentence; positions come from `pos`.
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const source = new YamlSource(file, text, doc, lineCounter);
    // After a structural error the parser's recovery produces a cascade of follow-on errors;
    // only the first is worth reading. Duplicate keys are independent findings: all are kept.
    const duplicates = doc.errors.filter((error) => error.code === 'DUPLICATE_KEY');
    const structural = doc.errors.find((error) => error.code !== 'DUPLICATE_KEY');
    const diagnostics = [...duplicates, ...(structural === undefined ? [] : [structural])].map(
      (error) => source.syntaxDiagnostic(error.code, error.message, error.pos),
    );
    diagnostics.push(...source.unresolvedAliases());
    if (diagnostics.length > 0) return fail(diagnostics);

    // Converting can still fail (an alias expanding into a huge document): report, not throw.
    try {
      source.toData();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return fail([{ message: `cannot read YAML: ${reason}`, ...source.spanAt(0, 1) }]);
    }
    return ok(source);
  }

  /** The document as plain JSON-like data (maps become objects), as it is now. */
  toData(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** The 1-based line and column of a character offset. */
  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** A span from `start`, cut at the end of its line and at trailing whitespace. */
  spanAt(start: number, end: number): Span {
    const lineEnd = this.text.indexOf('\n', start);
    let stop = Math.min(end, lineEnd === -1 ? this.text.length : lineEnd);
    while (stop > start && /\s/.test(this.text[stop - 1] ?? '')) stop -= 1;
    return { position: this.positionAt(start), length: Math.max(1, stop - start) };
  }

  /** The node at `path`, if the document has one there. */
  nodeAt(path: YamlPath): Node | undefined {
    const node: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    return isNode(node) ? node : undefined;
  }

  /**
   * Where to point for `path`. When the path does not exist (a missing required key) this is
   * the key of the nearest entry that does, so "missing `flow`" lands on the stage's name.
   */
  locate(path: YamlPath, options: LocateOptions = {}): Span {
    if (options.key === true) {
      const keySpan = this.keySpan(path);
      if (keySpan !== undefined) return keySpan;
    }

    const node = this.nodeAt(path);
    if (node?.range !== undefined && node.range !== null) {
      const [start, end] = node.range;
      if (options.within !== undefined && isScalar(node)) {
        const at = this.text.slice(start, end).indexOf(options.within);
        if (at !== -1) return this.spanAt(start + at, start + at + options.within.length);
      }
      // An empty value (`settings:`) or a block spanning lines reads best at its key.
      const spansLines = this.text.slice(start, end).includes('\n');
      if ((end <= start || (spansLines && isCollection(node))) && path.length > 0) {
        const keySpan = this.keySpan(path);
        if (keySpan !== undefined) return keySpan;
      }
      return this.spanAt(start, end);
    }

    for (let depth = path.length - 1; depth >= 0; depth -= 1) {
      const prefix = path.slice(0, depth);
      const found = this.nodeAt(prefix);
      if (found === undefined) continue;
      const keySpan = prefix.length > 0 ? this.keySpan(prefix) : undefined;
      if (keySpan !== undefined) return keySpan;
      if (found.range) return this.spanAt(found.range[0], found.range[1]);
    }
    return this.spanAt(0, 1);
  }

  /** A diagnostic located at `path` (see `locate`). */
  diagnostic(path: YamlPath, message: string, options: DiagnosticOptions = {}): Diagnostic {
    const { position, length } = this.locate(path, options);
    return options.hint === undefined
      ? { message, position, length }
      : { message, position, length, hint: options.hint };
  }

  /** The span of the key of the entry at `path` (or of the item, for a sequence index). */
  private keySpan(path: YamlPath): Span | undefined {
    if (path.length === 0) return undefined;
    const parent = this.nodeAt(path.slice(0, -1));
    const last = path[path.length - 1];
    if (isMap(parent)) {
      for (const pair of parent.items) {
        if (isScalar(pair.key) && String(pair.key.value) === String(last) && pair.key.range) {
          return this.spanAt(pair.key.range[0], pair.key.range[1]);
        }
      }
    }
    if (isSeq(parent) && typeof last === 'number') {
      const item = parent.items[last];
      if (isNode(item) && item.range) return this.spanAt(item.range[0], item.range[1]);
    }
    return undefined;
  }

  private syntaxDiagnostic(code: string, message: string, pos: [number, number]): Diagnostic {
    if (code === 'DUPLICATE_KEY') {
      const duplicate = this.duplicateKey(pos[0]);
      if (duplicate !== undefined) return duplicate;
    }
    const diagnostic = {
      message: `YAML syntax error: ${message.replace(/\s+/g, ' ').trim()}`,
      ...this.spanAt(pos[0], pos[1]),
    };
    // `{ text: ${data.text} }` is the commonest slip: in a `{ }` map, `{` after `$` opens
    // another map. Quoting the reference fixes it.
    if (/\$\{/.test(this.text.slice(pos[0] - 1, pos[0] + 2))) {
      return { ...diagnostic, hint: 'inside { }, quote a reference: key: "${data.col}"' };
    }
    // The parser notices an unclosed quote or bracket where the document ends or the next key
    // starts; the user needs to see where it was opened.
    const unclosed = UNCLOSED.find((entry) => entry.test(code, message));
    if (unclosed !== undefined) {
      const opened = this.lastUnclosed(pos[0], unclosed.open, unclosed.close);
      if (opened !== undefined) {
        return {
          message: `YAML syntax error: ${unclosed.what} opened here is not closed`,
          ...this.spanAt(opened, opened + 1),
          hint: unclosed.hint,
        };
      }
    }
    const hint = SYNTAX_HINTS[code];
    return hint === undefined ? diagnostic : { ...diagnostic, hint };
  }

  /**
   * The offset of the last `open` before `offset` that its line does not close, looking back
   * line by line; undefined when there is none.
   */
  private lastUnclosed(offset: number, open: string, close: string): number | undefined {
    const lines = this.text.slice(0, offset).split('\n');
    let lineStart = offset;
    for (let index = lines.length - 1; index >= 0; index -= 1) {
      const line = lines[index] ?? '';
      lineStart -= line.length + (index < lines.length - 1 ? 1 : 0);
      const content = line.replace(/\s#.*$/, '');
      let depth = 0;
      let last = -1;
      let quote: string | undefined;
      for (let at = 0; at < content.length; at += 1) {
        const char = content[at];
        if (open !== close && (char === '"' || char === "'")) {
          // Brackets inside a quoted value are text, not structure.
          if (quote === undefined) quote = char;
          else if (quote === char && (char === "'" || content[at - 1] !== '\\')) quote = undefined;
          continue;
        }
        if (quote !== undefined) continue;
        if (open === close) {
          // Inside single quotes `''` is a quote; inside double quotes `\"` is.
          if (depth === 1 && open === "'" && char === open && content[at + 1] === open) {
            at += 1;
          } else if (char === open && (open === "'" || content[at - 1] !== '\\')) {
            depth = depth === 0 ? 1 : 0;
            if (depth === 1) last = at;
          }
        } else if (char === open) {
          depth += 1;
          last = at;
        } else if (char === close && depth > 0) {
          depth -= 1;
        }
      }
      if (depth > 0 && last !== -1) return lineStart + last;
    }
    return undefined;
  }

  /** `duplicate key `a` (first on line 3)`, underlining the repeated key at `offset`. */
  private duplicateKey(offset: number): Diagnostic | undefined {
    let result: Diagnostic | undefined;
    visit(this.doc, {
      Map: (_key, map) => {
        const duplicate = map.items.find(
          (pair) => isNode(pair.key) && pair.key.range?.[0] === offset,
        );
        if (duplicate === undefined || !isScalar(duplicate.key) || !duplicate.key.range)
          return undefined;
        const name = String(duplicate.key.value);
        const first = map.items.find(
          (pair) => isScalar(pair.key) && String(pair.key.value) === name,
        );
        const firstKey = first?.key;
        const firstLine =
          isNode(firstKey) && firstKey.range ? this.positionAt(firstKey.range[0]).line : undefined;
        result = {
          message:
            `duplicate key \`${name}\`` +
            (firstLine === undefined ? '' : ` (first on line ${firstLine})`),
          ...this.spanAt(duplicate.key.range[0], duplicate.key.range[1]),
          hint: 'a key may appear only once in a map; remove or rename one',
        };
        return visit.BREAK;
      },
    });
    return result;
  }

  private unresolvedAliases(): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    visit(this.doc, {
      Alias: (_key, alias) => {
        if (isAlias(alias) && alias.resolve(this.doc) === undefined && alias.range) {
          diagnostics.push({
            message: `unknown YAML alias \`*${alias.source}\``,
            ...this.spanAt(alias.range[0], alias.range[1]),
            hint: `define the anchor \`&${alias.source}\` before this alias`,
          });
        }
      },
    });
    return diagnostics;
  }
}

/** Unclosed quotes and brackets, as the parser reports them, and how to fix each. */
const UNCLOSED: readonly {
  readonly test: (code: string, message: string) => boolean;
  readonly open: string;
  readonly close: string;
  readonly what: string;
  readonly hint: string;
}[] = [
  {
    test: (code, message) => code === 'MISSING_CHAR' && message.includes('"'),
    open: '"',
    close: '"',
    what: 'a quoted value',
    hint: 'close the quote on the same line, or leave the value unquoted',
  },
  {
    test: (code, message) => code === 'MISSING_CHAR' && message.includes("'"),
    open: "'",
    close: "'",
    what: 'a quoted value',
    hint: 'close the quote on the same line, or leave the value unquoted',
  },
  {
    test: (code, message) => code === 'BAD_INDENT' && message.includes('end with a ]'),
    open: '[',
    close: ']',
    what: 'a list',
    hint: 'end the list with `]` before the next key, or write each item on its own `- ` line',
  },
  {
    test: (code, message) => code === 'BAD_INDENT' && message.includes('end with a }'),
    open: '{',
    close: '}',
    what: 'a map',
    hint: 'end the map with `}` before the next key, or write each key on its own line',
  },
];

/** What usually causes the parser's errors, by its error code. */
const SYNTAX_HINTS: Readonly<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY:
    'check the indentation here and on the line above: a value goes after `key: ` on one ' +
    'line; nested keys go on lines of their own, indented deeper than their parent',
  MULTILINE_IMPLICIT_KEY:
    'a key needs a colon (`stages:`), and the keys of one map start in the same column',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'check the indentation: keys of one map start in the same column',
};
