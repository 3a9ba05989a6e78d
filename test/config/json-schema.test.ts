import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { JSON_SCHEMA_FILES, renderJsonSchema } from '../../src/config/json-schema.js';

describe('JSON Schema files', () => {
  it.each(Object.entries(JSON_SCHEMA_FILES))(
    '%s is up to date (npm run schema)',
    (file, schema) => {
      const committed = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(committed).toBe(renderJsonSchema(schema));
    },
  );
});
