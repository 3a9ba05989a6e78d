/**
 * Writes the JSON Schemas of experiment.yaml and flow.yaml into `schema/`:
 * `npm run schema` after changing experiment-schema.ts or flow-schema.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { JSON_SCHEMA_FILES, renderJsonSchema } from './json-schema.js';

// src/config/ (or dist/config/ when compiled) → the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

for (const [file, schema] of Object.entries(JSON_SCHEMA_FILES)) {
  const target = path.join(packageRoot, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, renderJsonSchema(schema));
  process.stdout.write(`wrote ${file}\n`);
}
