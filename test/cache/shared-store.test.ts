import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { CheckedStore } from '../../src/cache/checked-store.js';
import { openCacheStores, type CacheStores } from '../../src/cache/open-store.js';
import {
  countRedisKeys,
  dropRedisPrefix,
  postgresQuery,
  POSTGRES_URL,
  REDIS_URL,
  uniqueName,
} from '../support/shared-stores.js';

interface Answer {
  readonly answer: string;
}

/** A checkout's cache: its own local SQLite file in front of the shared store at `url`. */
async function checkout(url: string, warnings: string[]) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-shared-'));
  const stores = await openCacheStores(url, root, {
    shared: { onUnreachable: (message) => warnings.push(message) },
  });
  const shared = stores.shared;
  const store = new CheckedStore<Answer>(
    stores.calls,
    (key, reason) => warnings.push(`${key}: ${reason}`),
    shared && { keyv: shared.calls, status: shared.status },
  );
  return { root, stores, store };
}

describe.each([
  { name: 'Redis', url: () => `${REDIS_URL}?prefix=${uniqueName('store')}` },
  { name: 'PostgreSQL', url: () => `${POSTGRES_URL}?table=${uniqueName('store')}` },
])('a $name store shared by two checkouts', ({ url: makeUrl }) => {
  const opened: { root: string; stores: CacheStores }[] = [];
  let url = '';
  afterEach(async () => {
    for (const { root, stores } of opened.splice(0)) {
      await stores.close();
      await rm(root, { recursive: true, force: true });
    }
    const parsed = new URL(url);
    const prefix = parsed.searchParams.get('prefix');
    if (prefix !== null) {
      await dropRedisPrefix(prefix);
      expect(await countRedisKeys(prefix)).toBe(0);
    } else {
      await postgresQuery(`DROP TABLE IF EXISTS ${parsed.searchParams.get('table')}`);
    }
  });

  it('serves one checkout what the other wrote, and keeps a local copy', async () => {
    url = makeUrl();
    const warnings: string[] = [];
    const a = await checkout(url, warnings);
    const b = await checkout(url, warnings);
    opened.push(a, b);

    await a.store.set('call:x', { answer: 'yes' });
    expect(await b.stores.calls.get('call:x')).toBeUndefined();
    expect(await b.store.get('call:x')).toEqual({ answer: 'yes' });
    // Copied into b's own file, checked entry and all.
    expect(await new CheckedStore<Answer>(b.stores.calls).get('call:x')).toEqual({
      answer: 'yes',
    });
    expect(await b.store.get('call:y')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('replaces a bad local copy with the good shared entry', async () => {
    url = makeUrl();
    const warnings: string[] = [];
    const a = await checkout(url, warnings);
    opened.push(a);

    await a.store.set('call:x', { answer: 'yes' });
    const raw = (await a.stores.calls.get('call:x')) as { value: Answer };
    await a.stores.calls.set('call:x', { ...raw, value: { answer: 'no' } });

    expect(await a.store.get('call:x')).toEqual({ answer: 'yes' });
    expect(warnings).toEqual(['call:x: its content does not match its hash']);
    expect(await new CheckedStore<Answer>(a.stores.calls).get('call:x')).toEqual({
      answer: 'yes',
    });
  });

  it('discards a shared entry whose content does not match its hash, and never copies it', async () => {
    url = makeUrl();
    const warnings: string[] = [];
    const a = await checkout(url, warnings);
    const b = await checkout(url, warnings);
    opened.push(a, b);

    await a.store.set('call:x', { answer: 'yes' });
    const shared = a.stores.shared!;
    const raw = (await shared.calls.get('call:x')) as { value: Answer };
    await shared.calls.set('call:x', { ...raw, value: { answer: 'no' } });

    expect(await b.store.get('call:x')).toBeUndefined();
    expect(warnings).toEqual(['call:x: its content does not match its hash, in the shared store']);
    expect(await b.stores.calls.get('call:x')).toBeUndefined();
    expect(await shared.calls.get('call:x')).toBeUndefined();
  });
});

/** A TCP server on an ephemeral port of 127.0.0.1; `forward` relays each connection there. */
async function tcpServer(forward?: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    if (forward !== undefined) {
      const upstream = net.connect(forward, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** Cuts every connection, as a server going away does. */
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a shared store that stops answering', () => {
  const opened: { root: string; stores: CacheStores }[] = [];
  const servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const { root, stores } of opened.splice(0)) {
      await stores.close();
      await rm(root, { recursive: true, force: true });
    }
    for (const server of servers.splice(0)) await server.close();
  });

  it('that accepts connections but never answers is reported once, and the local layer serves', async () => {
    const silent = await tcpServer();
    servers.push(silent);
    const warnings: string[] = [];
    const a = await checkout(`redis://127.0.0.1:${silent.port}`, warnings);
    opened.push(a);

    await a.store.set('call:x', { answer: 'yes' });
    expect(await a.store.get('call:x')).toEqual({ answer: 'yes' });
    expect(await a.store.get('call:y')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^shared cache redis://127\\.0\\.0\\.1:${silent.port} unreachable \\(.+\\); continuing on the local cache$`,
      ),
    );
  });

  it.each([
    {
      name: 'Redis',
      port: 6379,
      url: (port: number, name: string) => `redis://127.0.0.1:${port}?prefix=${name}`,
    },
    {
      name: 'PostgreSQL',
      port: 5432,
      url: (port: number, name: string) => `postgres://root@127.0.0.1:${port}/test?table=${name}`,
    },
  ])(
    'that goes away during a build ($name) is reported once, and writes go on locally',
    async ({ port, url }) => {
      const proxy = await tcpServer(port);
      servers.push(proxy);
      const name = uniqueName('cut');
      const warnings: string[] = [];
      const a = await checkout(url(proxy.port, name), warnings);
      opened.push(a);
      try {
        await a.store.set('call:x', { answer: 'yes' });
        expect(warnings).toEqual([]);

        proxy.cut();
        // Let the store notice while idle, as it does when a server goes away between rows.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await a.store.set('call:y', { answer: 'later' });
        await a.store.set('call:z', { answer: 'later still' });
        expect(await a.store.get('call:y')).toEqual({ answer: 'later' });
        expect(await a.store.get('call:w')).toBeUndefined();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(`shared cache ${url(proxy.port, name)} unreachable (`);
        expect(warnings[0]).toContain('; continuing on the local cache');

        // The store itself kept what was written before the cut, and got nothing after it.
        const b = await checkout(url(port, name), warnings);
        opened.push(b);
        expect(await b.store.get('call:x')).toEqual({ answer: 'yes' });
        expect(await b.store.get('call:y')).toBeUndefined();
        expect(warnings).toHaveLength(1);
      } finally {
        for (const { root, stores } of opened.splice(0)) {
          await stores.close();
          await rm(root, { recursive: true, force: true });
        }
        if (port === 6379) await dropRedisPrefix(name);
        else await postgresQuery(`DROP TABLE IF EXISTS ${name}`);
      }
    },
  );
});
