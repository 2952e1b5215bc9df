import { describeTestDatabase, postgresReachable } from './helpers/postgres';
import { REDIS_SERVER_URL, redisReachable } from './helpers/redis';

/** Decides once per run whether the Redis- and PostgreSQL-backed tests can run, and refuses to skip them under CI. */
export default async function globalSetup(): Promise<void> {
  const [redis, postgres] = await Promise.all([redisReachable(), postgresReachable()]);
  process.env.TEST_REDIS_AVAILABLE = redis ? '1' : '0';
  process.env.TEST_POSTGRES_AVAILABLE = postgres ? '1' : '0';
  if (!redis) missing(`Redis answers at ${REDIS_SERVER_URL}`, 'the multi-instance tests', 'Start redis-server (or set REDIS_URL)');
  if (!postgres) {
    missing(`PostgreSQL answers at ${describeTestDatabase()}`, 'the journal tests', 'Start PostgreSQL (or set TEST_DATABASE_URL)');
  }
}

function missing(what: string, tests: string, remedy: string): void {
  if (process.env.CI) {
    throw new Error(`CI is set but no ${what}: ${tests} cannot be skipped under CI`);
  }
  process.stderr.write(
    `\n${'!'.repeat(100)}\n!!! No ${what}: every test that needs it is SKIPPED.\n` + `!!! They run in CI (CI=true). ${remedy} to run them here.\n${'!'.repeat(100)}\n\n`,
  );
}
