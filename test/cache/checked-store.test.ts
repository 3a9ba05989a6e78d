import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CheckedStore } from '../../src/cache/checked-store.js';
import { callKey, rowKey } from '../../src/cache/cache-keys.js';
import { openCacheStores, type CacheStores } from '../../src/cache/open-store.js';
import type { ContentHash } from '../../src/fingerprint/hash.js';

describe('cache entries checked on read', () => {
  let root: string;
  let stores: CacheStores;
  let discarded: [string, string][];
  let store: CheckedStore<{ answer: string }>;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-store-'));
    stores = await openCacheStores('sqlite://cache/kwgraph.sqlite', root);
    discarded = [];
    store = new CheckedStore(stores.calls, (key, reason) => discarded.push([key, reason]));
  });
  afterEach(async () => {
    await stores.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serve what was stored', async () => {
    await store.set('call:a', { answer: 'yes' });
    expect(await store.get('call:a')).toEqual({ answer: 'yes' });
    expect(await store.get('call:b')).toBeUndefined();
    expect(discarded).toEqual([]);
  });

  it('discard, report and remove an entry whose content no longer matches its hash', async () => {
    await store.set('call:a', { answer: 'yes' });
    const raw = (await stores.calls.get('call:a')) as { value: { answer: string } };
    raw.value.answer = 'no';
    await stores.calls.set('call:a', raw);

    expect(await store.get('call:a')).toBeUndefined();
    expect(discarded).toEqual([['call:a', 'its content does not match its hash']]);
    expect(await stores.calls.get('call:a')).toBeUndefined();
  });

  it('discard entries of another cache format and entries kwgraph did not write', async () => {
    await stores.calls.set('call:old', { format: 1, sha256: 'x', value: { answer: 'yes' } });
    await stores.calls.set('call:foreign', 'just a string');
    expect(await store.get('call:old')).toBeUndefined();
    expect(await store.get('call:foreign')).toBeUndefined();
    expect(discarded.map(([key]) => key)).toEqual(['call:old', 'call:foreign']);
  });

  it('keep the two levels apart: each lists and clears only its own keys', async () => {
    const rows = new CheckedStore(stores.rows);
    await rows.set('row:1', { answer: 'r' });
    await store.set('call:1', { answer: 'c' });
    expect(await rows.keys()).toEqual(['row:1']);
    expect(await store.keys()).toEqual(['call:1']);
    await rows.clear();
    expect(await store.get('call:1')).toEqual({ answer: 'c' });
  });
});

describe('cache keys', () => {
  const connection = { kind: 'openai', baseUrl: null } as const;
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

  it('change with the cache format version', () => {
    expect(callKey(connection, request, undefined, 1)).not.toBe(
      callKey(connection, request, undefined, 2),
    );
    const definition = 'd' as ContentHash;
    expect(rowKey(definition, { a: 1 }, 1)).not.toBe(rowKey(definition, { a: 1 }, 2));
  });

  it('give each sample of a repeated stage its own calls, the first keeping the plain key', () => {
    expect(callKey(connection, request, 1)).toBe(callKey(connection, request));
    expect(callKey(connection, request, 2)).not.toBe(callKey(connection, request));
    expect(callKey(connection, request, 3)).not.toBe(callKey(connection, request, 2));
  });
});
