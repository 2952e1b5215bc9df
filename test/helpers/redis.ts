import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { startTcpProxy, TcpProxy } from './tcp-proxy';
import { createConnection } from 'node:net';

/**
 * The Redis server the tests share with every other run on this machine. No test works in it directly:
 * each test file leases a logical database of its own (`redisDatabase()`) and flushes only that one.
 */
export const REDIS_SERVER_URL = withDatabase(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', undefined);

let reachable: Promise<boolean> | undefined;

/** Whether a Redis answers at REDIS_SERVER_URL (a bare TCP connect, so no client retries get in the way). */
export function redisReachable(): Promise<boolean> {
  reachable ??= new Promise((resolve) => {
    const { hostname, port } = new URL(REDIS_SERVER_URL);
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
    describe.skip(`${name} [SKIPPED: no Redis at ${REDIS_SERVER_URL}]`, body);
  } else {
    describe(name, body);
  }
}

/** A logical database of the shared server, this test file's alone while it holds the lease. */
export interface RedisDatabase {
  index: number;
  /** A REDIS_URL that selects this database. */
  url: string;
  /** A new client on this database; the caller quits it. */
  client(): Redis;
  /** FLUSHDB on this database only: what a Redis restart does, to this test file alone. */
  flush(): Promise<void>;
  release(): Promise<void>;
}

// Leases live in database 0, which no test uses for anything else.
const LEASE_KEY_PREFIX = 'credits-gateway-tests:redis-db:';
const LEASE_MS = 60_000;
const LEASE_WAIT_MS = 120_000;
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

function withDatabase(url: string, index: number | undefined): string {
  const parsed = new URL(url);
  parsed.pathname = index === undefined ? '' : `/${index}`;
  return parsed.toString();
}

function connect(index: number): Redis {
  return new Redis(withDatabase(REDIS_SERVER_URL, index), { maxRetriesPerRequest: 1, lazyConnect: false });
}

/**
 * A logical database no other holder of a lease is using (other test files, other runs on this machine
 * sharing the server), emptied for the caller. Held until `release()`, renewed while held; a lease whose
 * process died expires on its own. Waits (bounded) when every database is leased.
 */
export async function leaseRedisDatabase(): Promise<RedisDatabase> {
  const leases = connect(0);
  const owner = randomUUID();
  let databases = 16;
  try {
    const [, configured] = (await leases.config('GET', 'databases')) as string[];
    databases = Number(configured) || databases;
  } catch {
    // CONFIG may be disabled: the default count then.
  }
  const deadline = Date.now() + LEASE_WAIT_MS;
  let index: number | undefined;
  while (index === undefined) {
    const offset = Math.floor(Math.random() * (databases - 1));
    for (let i = 0; i < databases - 1 && index === undefined; i++) {
      const candidate = 1 + ((offset + i) % (databases - 1));
      if ((await leases.set(LEASE_KEY_PREFIX + candidate, owner, 'PX', LEASE_MS, 'NX')) === 'OK') index = candidate;
    }
    if (index !== undefined) break;
    if (Date.now() > deadline) {
      await leases.quit();
      throw new Error(`every Redis logical database 1..${databases - 1} stayed leased for ${LEASE_WAIT_MS} ms`);
    }
    // Another holder's release is not announced: look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const key = LEASE_KEY_PREFIX + index;
  const renewal = setInterval(() => void leases.eval(RENEW, 1, key, owner, LEASE_MS).catch(() => undefined), LEASE_MS / 3);
  renewal.unref();
  const leased = index;
  const flush = async () => {
    const redis = connect(leased);
    try {
      await redis.flushdb();
    } finally {
      await redis.quit();
    }
  };
  // Whatever a holder that died left behind is not this holder's to trip over.
  await flush();
  return {
    index: leased,
    url: withDatabase(REDIS_SERVER_URL, leased),
    client: () => connect(leased),
    flush,
    release: async () => {
      clearInterval(renewal);
      await leases.eval(RELEASE, 1, key, owner).catch(() => undefined);
      await leases.quit();
    },
  };
}

let suiteDatabase: Promise<RedisDatabase> | undefined;

/** This test file's logical database: leased on first use, released after the file's last test. */
export function redisDatabase(): Promise<RedisDatabase> {
  suiteDatabase ??= leaseRedisDatabase();
  return suiteDatabase;
}

// Jest gives each test file its own copy of this module, so this runs once per file, after its tests.
// (global-setup imports this module too, outside any test file: no hooks there.)
if (typeof afterAll === 'function') {
  afterAll(async () => {
    const leased = suiteDatabase;
    suiteDatabase = undefined;
    await (await leased?.catch(() => undefined))?.release();
  });
}

/** A new client on this test file's logical database; the caller quits it. */
export async function redisClient(): Promise<Redis> {
  return (await redisDatabase()).client();
}

export interface RedisProxy extends TcpProxy {
  /** A REDIS_URL that reaches this test file's logical database through this proxy. */
  url: string;
}

/** A TcpProxy in front of the shared Redis server. */
export async function startRedisProxy(): Promise<RedisProxy> {
  const { hostname, port } = new URL(REDIS_SERVER_URL);
  const { index } = await redisDatabase();
  const proxy = await startTcpProxy({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
  return { ...proxy, url: `redis://127.0.0.1:${proxy.port}/${index}` };
}
