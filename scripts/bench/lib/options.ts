/**
 * Benchmark parameters: defaults that match the issue, `--smoke` for a tiny run, and a flag (or a BENCH_*
 * environment variable) for each. `--help` lists them.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export type Scenario = 'balances' | 'adjust' | 'history' | 'fanout' | 'bulk' | 'tracing';
export const SCENARIOS: readonly Scenario[] = ['balances', 'adjust', 'history', 'fanout', 'bulk', 'tracing'];

export interface BenchOptions {
  smoke: boolean;
  out: string;
  json?: string;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** Rounds of the balances comparison (plain, minimal Nest, service in turn); each path's median is reported. */
  balancesRounds: number;
  /** A commit whose service is measured beside this one in every balances round (the effect of a change). */
  baseline?: string;
  /** Where to write CPU profiles of each balances round's measured window, when asked. */
  profileBalancesDir?: string;
  subscriberLevels: number[];
  events: number;
  eventRate: number;
  connectBatch: number;
  idleSeconds: number;
  only: Set<Scenario>;
  redis: boolean;
  redisUrl: string;
  /** PostgreSQL for the journal scenarios; the bench creates and drops its own schemas there. */
  databaseUrl: string;
  /** Adjustments seeded for the history scenario. */
  historyRows: number;
  /** Measured seconds per history filter (one connection: each request waits for the previous). */
  historyDurationSeconds: number;
  logLevel: string;
  profileDir?: string;
  verbose: boolean;
  /** Run the measured servers under ts-node rather than compiled by tsc first (the default, as `npm start` runs). */
  fromSource: boolean;
  timeoutSeconds: number;
}

export const USAGE = `npm run bench [-- options]

  --smoke                 tiny run (seconds, not minutes); writes to a temp file unless --out is given
  --out <file>            the report (default BENCHMARKS.md at the repository root)
  --json <file>           also write every raw figure as JSON
  --duration <s>          measured seconds per HTTP scenario (default 10; smoke 1)
  --warmup <s>            discarded warm-up seconds before each HTTP scenario (default 3; smoke 0.5)
  --connections <n>       autocannon connections (default 50; smoke 10)
  --rounds <n>            rounds of the balances comparison, the plain server, the minimal Nest app and the
                          service measured in turn in each; each path's median is reported (default 3; smoke 1)
  --subscribers <a,b,c>   fan-out levels, cumulative (default 1000,5000,10000; smoke 25,50)
  --events <n>            adjustments per fan-out level (default 200; smoke 10)
  --event-rate <n>        adjustments per second during fan-out (default 50; smoke 20)
  --connect-batch <n>     graphql-ws handshakes in flight at once (default 200; smoke 25)
  --idle <s>              idle window measured before each level's events (default 3; smoke 0.5)
  --only <list>           some of balances,adjust,history,fanout,bulk,tracing (default all; bulk: scripts/bench/bulk.ts)
  --history-rows <n>      adjustments seeded for the history scenario (default 1000000; smoke 10000)
  --history-duration <s>  measured seconds per history filter (default 5; smoke 0.5)
  --database-url <url>    PostgreSQL for the journal scenarios; the bench creates and drops bench_* schemas
                          there (default BENCH_DATABASE_URL, TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
  --no-redis              skip the Redis variants even when Redis answers
  --redis-url <url>       (default REDIS_URL or redis://127.0.0.1:6379)
  --log-level <level>     the gateway's LOG_LEVEL (default warn)
  --profile <dir>         run the gateway processes with --cpu-prof, profiles written to <dir>
  --baseline <git-ref>    also measure the service as of <git-ref> (exported to a temporary directory, run
                          from there) in every balances round, beside this one: a change's effect measured
                          in one run, under the same load
  --profile-balances <dir>
                          CPU profiles of the plain server, the minimal Nest app and the service over each
                          balances round's measured window only (node:inspector), written to <dir>; read
                          them per layer with scripts/bench/profile-layers.ts
  --timeout <s>           abort the whole run after this long (default 900; smoke 120)
  --verbose               show the servers' output and progress details
  --from-source           run the servers under ts-node; by default they are compiled with tsc first (into
                          .bench-build/) and run as plain JavaScript, as npm start runs dist/main.js

Environment: BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_SUBSCRIBERS, BENCH_EVENTS,
BENCH_EVENT_RATE, BENCH_CONNECT_BATCH, BENCH_ROUNDS, BENCH_IDLE, BENCH_ONLY, BENCH_OUT, BENCH_HISTORY_ROWS, BENCH_HISTORY_DURATION,
BENCH_DATABASE_URL, TEST_DATABASE_URL, REDIS_URL.`;

export class UsageError extends Error {}

function positiveNumber(name: string, raw: string, integer: boolean, allowZero = false): number {
  const value = Number(raw);
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && (!integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`${name} must be a ${integer ? 'whole ' : ''}number${allowZero ? ' (0 or more)' : ' above 0'}, got "${raw}"`);
  return value;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, repoRoot: string): BenchOptions {
  const known = new Set([
    'smoke',
    'out',
    'json',
    'duration',
    'warmup',
    'connections',
    'subscribers',
    'events',
    'event-rate',
    'connect-batch',
    'idle',
    'only',
    'no-redis',
    'redis-url',
    'history-rows',
    'history-duration',
    'database-url',
    'log-level',
    'profile',
    'timeout',
    'verbose',
    'help',
    'rounds',
    'profile-balances',
    'baseline',
    'from-source',
  ]);
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
    const boolean = ['smoke', 'no-redis', 'verbose', 'help', 'from-source'].includes(name);
    if (boolean) {
      flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  if (flags.has('help')) throw new UsageError('');

  const smoke = flags.has('smoke');
  const pick = (flag: string, envName: string, full: string, small: string): string => {
    const value = flags.get(flag);
    if (typeof value === 'string') return value;
    return env[envName] || (smoke ? small : full);
  };
  const levels = pick('subscribers', 'BENCH_SUBSCRIBERS', '1000,5000,10000', '25,50')
    .split(',')
    .map((part) => positiveNumber('--subscribers', part.trim(), true));
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] <= levels[i - 1]) throw new UsageError('--subscribers levels must increase (they are cumulative)');
  }
  const only = new Set<Scenario>();
  for (const part of pick('only', 'BENCH_ONLY', SCENARIOS.join(','), SCENARIOS.join(',')).split(',')) {
    const name = part.trim() as Scenario;
    if (!SCENARIOS.includes(name)) throw new UsageError(`--only takes ${SCENARIOS.join(', ')}; got "${part}"`);
    only.add(name);
  }
  const outFlag = flags.get('out');
  const out = typeof outFlag === 'string' ? outFlag : env.BENCH_OUT || (smoke ? join(tmpdir(), `bench-smoke-${process.pid}.md`) : join(repoRoot, 'BENCHMARKS.md'));
  const json = flags.get('json');
  const profile = flags.get('profile');
  const profileBalances = flags.get('profile-balances');
  const baseline = flags.get('baseline');
  const redisUrl = flags.get('redis-url');
  const logLevel = flags.get('log-level');
  const databaseUrl = flags.get('database-url');
  return {
    smoke,
    out,
    json: typeof json === 'string' ? json : undefined,
    durationSeconds: positiveNumber('--duration', pick('duration', 'BENCH_DURATION', '10', '1'), false),
    warmupSeconds: positiveNumber('--warmup', pick('warmup', 'BENCH_WARMUP', '3', '0.5'), false, true),
    connections: positiveNumber('--connections', pick('connections', 'BENCH_CONNECTIONS', '50', '10'), true),
    balancesRounds: positiveNumber('--rounds', pick('rounds', 'BENCH_ROUNDS', '3', '1'), true),
    baseline: typeof baseline === 'string' ? baseline : undefined,
    profileBalancesDir: typeof profileBalances === 'string' ? profileBalances : undefined,
    subscriberLevels: levels,
    events: positiveNumber('--events', pick('events', 'BENCH_EVENTS', '200', '10'), true),
    eventRate: positiveNumber('--event-rate', pick('event-rate', 'BENCH_EVENT_RATE', '50', '20'), false),
    connectBatch: positiveNumber('--connect-batch', pick('connect-batch', 'BENCH_CONNECT_BATCH', '200', '25'), true),
    idleSeconds: positiveNumber('--idle', pick('idle', 'BENCH_IDLE', '3', '0.5'), false, true),
    only,
    redis: !flags.has('no-redis'),
    redisUrl: typeof redisUrl === 'string' ? redisUrl : env.REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: typeof databaseUrl === 'string' ? databaseUrl : env.BENCH_DATABASE_URL || env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    historyRows: positiveNumber('--history-rows', pick('history-rows', 'BENCH_HISTORY_ROWS', '1000000', '10000'), true),
    historyDurationSeconds: positiveNumber('--history-duration', pick('history-duration', 'BENCH_HISTORY_DURATION', '5', '0.5'), false),
    logLevel: typeof logLevel === 'string' ? logLevel : 'warn',
    profileDir: typeof profile === 'string' ? profile : undefined,
    verbose: flags.has('verbose'),
    fromSource: flags.has('from-source'),
    timeoutSeconds: positiveNumber('--timeout', pick('timeout', 'BENCH_TIMEOUT', '900', '120'), false),
  };
}
