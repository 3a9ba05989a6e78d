import * as z from 'zod';

import { experimentSchema } from './experiment-schema.js';
import { flowSchema } from './flow-schema.js';

/** The JSON Schema files kept in `schema/` for editors (yaml-language-server and others). */
export const JSON_SCHEMA_FILES = {
  'schema/experiment.schema.json': experimentSchema,
  'schema/flow.schema.json': flowSchema,
} as const;

/**
 * A schema file's text. `io: 'input'` describes what a user writes (optional keys stay
 * optional). Deterministic, so a test can compare it with the committed file.
 */
export function renderJsonSchema(schema: z.ZodType): string {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(jsonSchema, null, 2)}\n`;
}
