import { pathToFileURL } from 'node:url';

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports a user's module (a code node, a module connection) by absolute path. TypeScript files
 * go through tsx, so flows can be written in TypeScript without a build step. Each file is
 * imported once per process.
 */
export function importUserModule(absolutePath: string): Promise<Record<string, unknown>> {
  let module = loaded.get(absolutePath);
  if (module === undefined) {
    const url = pathToFileURL(absolutePath).href;
    module = /\.[mc]?ts$/.test(absolutePath)
      ? // tsx is loaded on first use: a build with nothing to run imports no TypeScript.
        import('tsx/esm/api').then(
          ({ tsImport }) => tsImport(url, import.meta.url) as Promise<Record<string, unknown>>,
        )
      : (import(url) as Promise<Record<string, unknown>>);
    loaded.set(absolutePath, module);
  }
  return module;
}

/** The named export (or `default`) of a module, when it is a function. */
export function exportedFunction(
  module: Record<string, unknown>,
  name: string,
): ((...args: unknown[]) => unknown) | undefined {
  const candidate = module[name];
  if (typeof candidate === 'function') return candidate as (...args: unknown[]) => unknown;

  // Outside a `"type": "module"` package, a TypeScript file is loaded as CommonJS and its
  // exports arrive wrapped in `default`.
  const wrapped = module['default'];
  if (wrapped !== null && typeof wrapped === 'object' && wrapped !== module) {
    return exportedFunction(wrapped as Record<string, unknown>, name);
  }
  return undefined;
}
