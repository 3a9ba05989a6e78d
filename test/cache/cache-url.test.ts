import { describe, expect, it } from 'vitest';

import {
  cacheUrlOf,
  cacheUrlProblem,
  DEFAULT_CACHE_URL,
  localCacheUrl,
} from '../../src/cache/open-store.js';
import { redact } from '../../src/cache/shared-store.js';

describe('the cache URL', () => {
  it('is KWGRAPH_CACHE, else experiment.yaml, else the local file', () => {
    expect(cacheUrlOf({}, {})).toBe(DEFAULT_CACHE_URL);
    expect(cacheUrlOf({ cache: 'redis://team:6379' }, {})).toBe('redis://team:6379');
    expect(
      cacheUrlOf({ cache: 'redis://team:6379' }, { KWGRAPH_CACHE: 'postgres://me@db/x' }),
    ).toBe('postgres://me@db/x');
    // An empty variable is no choice.
    expect(cacheUrlOf({ cache: 'redis://team:6379' }, { KWGRAPH_CACHE: '' })).toBe(
      'redis://team:6379',
    );
  });

  it('names SQLite, Redis or PostgreSQL, and nothing else', () => {
    for (const url of [
      'sqlite://cache/kwgraph.sqlite',
      'redis://127.0.0.1:6379?prefix=team',
      'rediss://user:secret@cache.example:6380',
      'postgres://root@127.0.0.1/test?table=t',
      'postgresql://root@127.0.0.1/test',
    ]) {
      expect(cacheUrlProblem(url), url).toBeUndefined();
    }
    expect(cacheUrlProblem('memcached://127.0.0.1')).toContain('is not supported');
    expect(cacheUrlProblem('cache/kwgraph.sqlite')).toContain('is not supported');
    expect(cacheUrlProblem('redis://[oops')).toContain('is not a valid URL');
  });

  it('takes only a plain table name and refuses misspelt parameters', () => {
    const injected =
      'postgres://root@127.0.0.1/test?table=t(k%20text);CREATE%20TABLE%20evil(i%20int);--';
    expect(cacheUrlProblem(injected)).toMatch(/table name "t\(k text\);CREATE.*" is not allowed/);
    expect(cacheUrlProblem('postgres://root@127.0.0.1/test?table=bad%20name')).toContain(
      'is not allowed',
    );
    expect(cacheUrlProblem('postgres://root@127.0.0.1/test?table=team_cache_2')).toBeUndefined();
    expect(cacheUrlProblem('redis://127.0.0.1:6379?table=t')).toContain(
      '`table` is for postgres:// stores only',
    );
    expect(cacheUrlProblem('postgres://u:pw@127.0.0.1/test?tabel=x')).toBe(
      'cache store "postgres://u:***@127.0.0.1/test?tabel=x": unknown parameter `tabel`; ' +
        'did you mean `table`?',
    );
    expect(cacheUrlProblem('redis://127.0.0.1:6379?prefx=team')).toContain('did you mean `prefix`');
    expect(cacheUrlProblem('redis://127.0.0.1:6379?prefix=')).toContain('`prefix` is empty');
    // Parameters of the driver itself pass through.
    expect(cacheUrlProblem('postgres://root@127.0.0.1/test?sslmode=disable')).toBeUndefined();
  });

  it('keeps a local SQLite file in front of a shared store', () => {
    expect(localCacheUrl('sqlite://elsewhere.sqlite')).toBe('sqlite://elsewhere.sqlite');
    expect(localCacheUrl('redis://127.0.0.1:6379')).toBe(DEFAULT_CACHE_URL);
  });

  it('never shows a password in messages', () => {
    expect(redact('redis://user:secret@127.0.0.1:6379')).toBe('redis://user:***@127.0.0.1:6379');
    expect(redact('redis://127.0.0.1:1')).toBe('redis://127.0.0.1:1');
  });
});
