import Redis from 'ioredis';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<boolean> | undefined;

/** Whether a Redis answers at REDIS_URL (a bare TCP connect, so no client retries get in the way). */
export function redisReachable(): Promise<boolean> {
  reachable ??= new Promise((resolve) => {
    const { hostname, port } = new URL(REDIS_URL);
    const socket = createConnection({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  return reachable;
}

/**
 * `describe` for tests that need a real Redis. test/global-setup.ts decides once per run: outside CI with
 * no Redis answering they are skipped (and it says so loudly); under CI=true a missing Redis fails the run.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (process.env.TEST_REDIS_AVAILABLE === '0') {
    describe.skip(`${name} [SKIPPED: no Redis at ${REDIS_URL}]`, body);
  } else {
    describe(name, body);
  }
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false });
}

export interface RedisProxy {
  /** A REDIS_URL that reaches the real Redis through this proxy. */
  url: string;
  /** Redis goes away: open connections are cut and new ones are closed as soon as they arrive. */
  cut(): void;
  /** Redis stops answering: connections stay open, and what is sent waits (as over a broken link) until restore. */
  pause(): void;
  /** Redis is back. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the real Redis that a test can cut and restore, so an outage can be staged
 * without stopping the Redis that other test runs share.
 */
export async function startRedisProxy(): Promise<RedisProxy> {
  const { hostname, port } = new URL(REDIS_URL);
  const target = { host: hostname || '127.0.0.1', port: Number(port || 6379) };
  let mode: 'open' | 'cut' | 'paused' = 'open';
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    client.on('error', () => client.destroy());
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    upstream.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    if (mode === 'paused') for (const socket of pair) socket.pause();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as AddressInfo;
  const destroyAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `redis://127.0.0.1:${proxyPort}`,
    cut: () => {
      mode = 'cut';
      destroyAll();
    },
    pause: () => {
      mode = 'paused';
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    restore: () => {
      mode = 'open';
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    close: async () => {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
