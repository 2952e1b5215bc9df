import { REDIS_URL, redisReachable } from './helpers/redis';

/** Decides once per run whether the Redis-backed tests can run, and refuses to skip them under CI. */
export default async function globalSetup(): Promise<void> {
  const available = await redisReachable();
  process.env.TEST_REDIS_AVAILABLE = available ? '1' : '0';
  if (available) return;
  if (process.env.CI) {
    throw new Error(`CI is set but no Redis answers at ${REDIS_URL}: the multi-instance tests cannot be skipped under CI`);
  }
  process.stderr.write(
    `\n${'!'.repeat(100)}\n!!! No Redis answers at ${REDIS_URL}: every test that needs Redis is SKIPPED.\n` +
      `!!! They run in CI (CI=true). Start redis-server (or set REDIS_URL) to run them here.\n${'!'.repeat(100)}\n\n`,
  );
}
