import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { PACING_KEY_PREFIX } from '../src/bulk/redis-pacing.store';
import { RATE_LIMIT_KEY_PREFIX } from '../src/rate-limit/fixed-window.storage';
import { describeWithRedis, leaseRedisDatabase, RedisDatabase } from './helpers/redis';
import { startApp, TestApp } from './helpers/test-app';

const ADJUST = 'mutation($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balance } }';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('Redis in the tests', () => {
  it('is never flushed whole, nor used at a fixed address, by any test file', () => {
    const wholeFlush = new RegExp(['flush', 'all'].join(''), 'i');
    const fixedAddress = /redis:\/\/127\.0\.0\.1:6379/;
    const offending = testFiles(__dirname)
      .filter((file) => !file.endsWith(join('helpers', 'redis.ts')))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return wholeFlush.test(text) || fixedAddress.test(text);
      })
      .map((file) => relative(__dirname, file));
    expect(offending).toEqual([]);
  });
});

describeWithRedis('an app on a logical database of its own', () => {
  const emulator = new RevenueCatEmulator();
  const runId = randomUUID().slice(0, 8);
  let other: RedisDatabase;
  let elsewhere: TestApp | undefined;

  beforeAll(async () => {
    other = await leaseRedisDatabase();
    await emulator.listen();
    elsewhere = await startApp({ emulator, env: { REDIS_URL: other.url } });
  });
  afterAll(async () => {
    await elsewhere?.close();
    await other?.release();
    await emulator.close();
  });

  it('keeps its counters and pacing budget (written by Lua scripts) in that database', async () => {
    const userId = `user_db_${runId}_keys`;
    emulator.addCustomer(userId, { CRD: 10 });
    const adjusted = await elsewhere!.client.query(ADJUST, { input: { userId, amount: 1, reason: 'DB-1 where state goes' } });
    expect(adjusted.body.data).toEqual({ adjustCredits: { balance: 11 } });

    const redis = other.client();
    try {
      const keys = await redis.keys('credits-gateway:*');
      expect(keys.some((key) => key.startsWith(RATE_LIMIT_KEY_PREFIX))).toBe(true);
      expect(keys.some((key) => key.startsWith(PACING_KEY_PREFIX))).toBe(true);
    } finally {
      await redis.quit();
    }
  });
});
