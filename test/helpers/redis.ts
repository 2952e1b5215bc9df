import Redis from 'ioredis';
import { startTcpProxy, TcpProxy } from './tcp-proxy';
import { createConnection } from 'node:net';

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

export interface RedisProxy extends TcpProxy {
  /** A REDIS_URL that reaches the real Redis through this proxy. */
  url: string;
}

/** A TcpProxy in front of the Redis at REDIS_URL. */
export async function startRedisProxy(): Promise<RedisProxy> {
  const { hostname, port } = new URL(REDIS_URL);
  const proxy = await startTcpProxy({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
  return { ...proxy, url: `redis://127.0.0.1:${proxy.port}` };
}
