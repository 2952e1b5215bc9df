/**
 * `npm run bench`: the gateway against what a user would otherwise run, in one process run.
 *
 * Every server runs in its own child process on loopback (the RevenueCat emulator, a minimal plain
 * `@apollo/server`, a minimal NestJS + Apollo app, the gateway without Redis, the gateway with Redis, and a fresh gateway for fan-out),
 * so the load generator (this process: autocannon for HTTP, real graphql-ws clients for subscriptions)
 * never adds its own CPU or memory to a server's figures. Writes BENCHMARKS.md (or --out), keeping
 * everything outside the generated block. `--help` for the parameters; `--smoke` for a tiny run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import type { AdjustmentFilter } from '../../src/journal/adjustment.repository';
import { queryRows } from '../../src/database/database';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Child, killAllChildren, REPO_ROOT, startChild } from './lib/children';
import { adjustOnce, closeEventAgent, EventRecord, sendEvents, SubscriberPool } from './lib/fanout';
import { benchSchema, dropSchema, explainFirstPage, HISTORY_DAYS, HISTORY_PAGE, historyOperator, historyUser, seedHistory } from './lib/history';
import { checkOnce, HttpFigures, HttpTarget, LoadSettings, measureHttp } from './lib/http-load';
import { machineInfo, openFilesLimit } from './lib/machine';
import { BenchOptions, parseOptions, UsageError, USAGE } from './lib/options';
import { benchBulk } from './bulk';
import { writeReport } from './lib/report';
import type { BalancesRound, BenchResults, FanoutLevel, FanoutResults, HistoryFilterFigures, HistoryResults, MemoryFigures, Maybe, TracingResults } from './lib/results';
import { percentile, sleep, nowMs, withTimeout } from './lib/stats';

const BENCH_USER = (i: number) => `bench_user_${i}`;
/** Users adjusted by the adjustCredits load (spread, so no customer is a hot spot). */
const ADJUST_USERS = 1_000;
/** Users beyond the fan-out levels: warm-up subscribers, and the users of the no-subscriber baseline. */
const SPARE_USERS = 200;
const FD_HEADROOM = 512;
const BALANCES_QUERY = '{ balances(userId: "user_2abcXYZ") { currency balance } }';
const ADJUST_MUTATION = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance replayed } }';
const HISTORY_QUERY =
  'query ($filter: AdjustmentFilter, $first: Int!) { adjustments(filter: $filter, first: $first) ' +
  '{ nodes { id userId currency amount status createdAt actor { name } } pageInfo { endCursor hasNextPage } } }';
/** Tells this run's PostgreSQL schemas apart from another run's (bench_<purpose>_<runId>). */
const RUN_ID = randomBytes(4).toString('hex');

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/**
 * 10,000 subscribers need 10,000 descriptors in this process and as many in the gateway's. `ulimit -n` is
 * per process and Node cannot raise it, so when the soft limit is too low (and the hard one allows) the
 * benchmark re-runs itself under `sh -c 'ulimit -n ...'`. Returns the exit code when it did.
 */
function ensureOpenFiles(options: BenchOptions): number | undefined {
  const needed = Math.max(...options.subscriberLevels) + SPARE_USERS + FD_HEADROOM;
  const { soft, hard } = openFilesLimit();
  const softLimit = soft === 'unlimited' ? Infinity : Number(soft);
  if (!options.only.has('fanout') || !Number.isFinite(softLimit) || softLimit >= needed || process.env.BENCH_REEXEC === '1') return undefined;
  const hardLimit = hard === 'unlimited' ? Infinity : Number(hard);
  if (hardLimit < needed) {
    throw new UsageError(
      `the fan-out levels need ${needed} open files per process, but this shell allows ${soft} (hard limit ${hard}); ` +
        'lower --subscribers or raise the hard limit (e.g. in /etc/security/limits.conf)',
    );
  }
  log(`raising the open files limit from ${soft} to ${needed} (ulimit -n) and running again`);
  const result = spawnSync(
    '/bin/sh',
    ['-c', `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, '-r', 'ts-node/register/transpile-only', __filename, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, BENCH_REEXEC: '1' }, cwd: REPO_ROOT },
  );
  return result.status ?? 1;
}

function redisReachable(url: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolvePromise(false);
      return;
    }
    const socket = createConnection({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
  });
}

/** PostgreSQL's version if it answers at `url`, undefined if not; never throws. */
async function postgresVersion(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Only what the servers need: nothing inherited (a stray REDIS_URL or CLERK_JWT_KEY) changes what is measured. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

interface Emulator {
  child: Child;
  url: string;
  apiKey: string;
  projectId: string;
}

/**
 * Where the gateway keeps its journal: `pglite` one instance, embedded in memory; `postgres` one instance
 * on PostgreSQL in `schema`; `redis` Redis for counters and the feed, the journal on PostgreSQL in `schema`
 * (several instances share Redis, so they need a shared PostgreSQL: the embedded engine refuses REDIS_URL).
 */
type JournalOn = { kind: 'pglite' } | { kind: 'postgres'; schema: string } | { kind: 'redis'; schema: string };

function gatewayEnv(options: BenchOptions, emulator: Emulator, secret: string, journal: JournalOn): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    LOG_LEVEL: options.logLevel,
    ADMIN_SECRET: secret,
    REVENUECAT_API_KEY: emulator.apiKey,
    REVENUECAT_PROJECT_ID: emulator.projectId,
    REVENUECAT_API_URL: emulator.url,
    // The service's own limits would turn a benchmark into a 429 benchmark.
    RATE_LIMIT_CURRENCIES_PER_MINUTE: '1000000',
    RATE_LIMIT_BALANCES_PER_MINUTE: '1000000',
    RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '1000000',
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    WS_MAX_CONNECTIONS_PER_CLIENT: '1000000',
    WS_CONNECT_ATTEMPTS_PER_MINUTE: '1000000',
    ...(journal.kind === 'pglite' ? { DATABASE_URL: 'pglite:memory' } : { DATABASE_URL: options.databaseUrl, DATABASE_SCHEMA: journal.schema }),
    ...(journal.kind === 'redis' ? { REDIS_URL: options.redisUrl } : {}),
  };
}

function gatewayFlags(options: BenchOptions, name: string, exposeGc: boolean): string[] {
  const flags = exposeGc ? ['--expose-gc'] : [];
  if (options.profileDir) flags.push('--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`);
  return flags;
}

async function memoryOf(child: Child): Promise<MemoryFigures & { connections?: number; listeners?: number }> {
  const stats = await child.stats(true);
  return {
    rssBytes: stats.rssBytes,
    heapUsedBytes: stats.heapUsedBytes,
    externalBytes: stats.externalBytes,
    gcForced: stats.gcForced,
    connections: stats.extra?.connections,
    listeners: stats.extra?.listeners,
  };
}

const cpuOf = async (child: Child): Promise<number> => {
  const stats = await child.stats();
  return stats.cpuUserUs + stats.cpuSystemUs;
};

// --------------------------------------------------------------------------------------------- balances

async function benchBalances(
  options: BenchOptions,
  settings: LoadSettings,
  emulator: Emulator,
  plain: { child: Child; url: string },
  plainStandalone: { child: Child; url: string },
  minimalNest: { child: Child; url: string },
  minimalNestFastify: { child: Child; url: string },
  gateway: { child: Child; url: string },
  gatewayRedis: Maybe<{ child: Child; url: string }>,
  secret: string,
  baseline?: Baseline & { child: Child; url: string },
): Promise<NonNullable<Exclude<BenchResults['balances'], { skipped: string }>>> {
  const graphqlHeaders = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ query: BALANCES_QUERY });
  const graphqlOk = (status: number, text: string) => (status === 200 && text.includes('"balances":[{') ? undefined : 'expected HTTP 200 with balances');
  const direct: HttpTarget = {
    url: `${emulator.url}/projects/${encodeURIComponent(emulator.projectId)}/customers/user_2abcXYZ/virtual_currencies?limit=100`,
    method: 'GET',
    headers: { authorization: `Bearer ${emulator.apiKey}`, accept: 'application/json' },
  };
  await checkOnce(direct, (status, text) => (status === 200 && text.includes('"items":[{') ? undefined : 'expected HTTP 200 with items'));
  const graphqlTarget = (server: { url: string }): HttpTarget => ({ url: `${server.url}/graphql`, method: 'POST', headers: graphqlHeaders, body });
  const paths: { key: keyof BalancesRound; label: string; server: { child: Child; url: string }; profile: boolean }[] = [
    { key: 'plain', label: 'plain @apollo/server', server: plain, profile: true },
    { key: 'plainStandalone', label: 'plain @apollo/server standalone', server: plainStandalone, profile: true },
    { key: 'minimalNest', label: 'minimal Nest app', server: minimalNest, profile: true },
    { key: 'minimalNestFastify', label: 'minimal Nest app on Fastify', server: minimalNestFastify, profile: true },
    { key: 'service', label: 'the service', server: gateway, profile: true },
  ];
  if (baseline) paths.push({ key: 'baseline', label: `the service at ${baseline.ref}`, server: baseline, profile: baseline.canProfile });
  for (const path of paths) await checkOnce(graphqlTarget(path.server), graphqlOk);

  log(`balances: direct to the emulator (${settings.durationSeconds} s, ${settings.connections} connections)`);
  const directFigures = await measureHttp(direct, settings, [emulator.child]);
  // The paths in turn, round after round, so a change in the machine's load hits each alike.
  const rounds: BalancesRound[] = [];
  if (options.profileBalancesDir) mkdirSync(resolve(options.profileBalancesDir), { recursive: true });
  for (let round = 1; round <= options.balancesRounds; round++) {
    const figures: Partial<BalancesRound> = {};
    for (const path of paths) {
      log(`balances, round ${round}/${options.balancesRounds}: ${path.label}`);
      const profileTo =
        options.profileBalancesDir && path.profile ? resolve(options.profileBalancesDir, `balances-${path.key}-round${round}-${RUN_ID}.cpuprofile`) : undefined;
      figures[path.key] = await measureHttp(graphqlTarget(path.server), settings, [path.server.child, emulator.child], profileTo);
    }
    const done = figures as BalancesRound;
    rounds.push(done);
    log(
      `balances, round ${round}: plain ${done.plain.requestsPerSecond.toFixed(0)}, standalone ${done.plainStandalone.requestsPerSecond.toFixed(0)}, minimal Nest ${done.minimalNest.requestsPerSecond.toFixed(0)}, ` +
        `on Fastify ${done.minimalNestFastify.requestsPerSecond.toFixed(0)}, ` +
        `service ${done.service.requestsPerSecond.toFixed(0)} req/s (${((done.service.requestsPerSecond / done.plain.requestsPerSecond) * 100).toFixed(0)}% of plain)` +
        (done.baseline ? `, service at ${baseline!.ref} ${done.baseline.requestsPerSecond.toFixed(0)} req/s` : ''),
    );
  }
  let redisFigures: Maybe<HttpFigures> = { skipped: 'skipped: no Redis' };
  if (!('skipped' in gatewayRedis)) {
    const target = graphqlTarget(gatewayRedis);
    await checkOnce(target, graphqlOk);
    log(`balances: the service with Redis`);
    redisFigures = await measureHttp(target, settings, [gatewayRedis.child, emulator.child]);
  } else {
    redisFigures = gatewayRedis;
  }
  return {
    direct: directFigures,
    plain: medianRound(rounds.map((round) => round.plain)),
    plainStandalone: medianRound(rounds.map((round) => round.plainStandalone)),
    minimalNest: medianRound(rounds.map((round) => round.minimalNest)),
    minimalNestFastify: medianRound(rounds.map((round) => round.minimalNestFastify)),
    service: medianRound(rounds.map((round) => round.service)),
    serviceRedis: redisFigures,
    rounds,
    ...(baseline ? { baseline: { ref: baseline.ref, commit: baseline.commit, figures: medianRound(rounds.map((round) => round.baseline!)) } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------- tracing

type Server = { child: Child; url: string };

/**
 * `balances` through the gateway with tracing off, on (the default sampler) and on at a 10% ratio, in
 * turn for each round so a change in the machine's load hits each alike. The traced ones export OTLP
 * http/protobuf to a sink in its own process.
 */
async function benchTracing(
  options: BenchOptions,
  settings: LoadSettings,
  emulator: Emulator,
  gateways: { off: Server; on: Server; ratio: Server },
  sink: Child,
  secret: string,
): Promise<TracingResults> {
  const target = (server: Server): HttpTarget => ({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: BALANCES_QUERY }),
  });
  const keys = ['off', 'on', 'ratio'] as const;
  for (const key of keys) {
    await checkOnce(target(gateways[key]), (status, text) => (status === 200 && text.includes('"balances":[{') ? undefined : 'expected HTTP 200 with balances'));
  }
  const rounds: TracingResults['rounds'] = [];
  for (let round = 1; round <= options.balancesRounds; round++) {
    const figures: Partial<TracingResults['rounds'][number]> = {};
    for (const key of keys) {
      log(`tracing, round ${round}/${options.balancesRounds}: balances with tracing ${key}`);
      figures[key] = await measureHttp(target(gateways[key]), settings, [gateways[key].child, emulator.child]);
    }
    rounds.push(figures as TracingResults['rounds'][number]);
  }
  const received = (await sink.stats()).extra ?? {};
  return {
    off: medianRound(rounds.map((round) => round.off)),
    on: medianRound(rounds.map((round) => round.on)),
    ratio: medianRound(rounds.map((round) => round.ratio)),
    rounds,
    sink: { exports: received.exports ?? 0, bytes: received.bytes ?? 0 },
  };
}

interface Baseline {
  ref: string;
  commit: string;
  /** A snapshot of the repository at `commit` (node_modules linked to this one's). */
  dir: string;
  /** Whether its benchmark children can profile a window (--profile-balances). */
  canProfile: boolean;
}

/** The repository at `ref`, exported with `git archive` (the repository itself is left alone). */
function exportBaseline(ref: string): Baseline {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'));
  const archived = spawnSync('/bin/sh', ['-c', 'git archive "$1" | tar -x -C "$2"', 'sh', commit, dir], { cwd: REPO_ROOT });
  if (archived.status !== 0) throw new UsageError(`--baseline ${ref}: could not export it: ${archived.stderr.toString().trim()}`);
  symlinkSync(resolve(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const childSide = join(dir, 'scripts', 'bench', 'lib', 'child-side.ts');
  const canProfile = existsSync(childSide) && readFileSync(childSide, 'utf8').includes('Profiler.start');
  return { ref, commit: commit.slice(0, 7), dir, canProfile };
}

/** The round with the median throughput (the lower middle one of an even count). */
function medianRound(figures: HttpFigures[]): HttpFigures {
  const sorted = [...figures].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

// ------------------------------------------------------------------------------------------ adjustCredits

async function benchAdjust(
  settings: LoadSettings,
  emulator: Emulator,
  gateway: { child: Child; url: string },
  gatewayPostgres: Maybe<{ child: Child; url: string }>,
  gatewayRedis: Maybe<{ child: Child; url: string }>,
  secret: string,
): Promise<NonNullable<Exclude<BenchResults['adjust'], { skipped: string }>>> {
  const runId = RUN_ID;
  let counter = 0;
  // Every request is a new adjustment (a unique idempotency key, as the README asks callers to send) for
  // a random user, so the figure includes the journal's claim (a PENDING row) and settlement, and no replays.
  const makeBody = () =>
    JSON.stringify({
      query: ADJUST_MUTATION,
      variables: {
        input: {
          userId: BENCH_USER(Math.floor(Math.random() * ADJUST_USERS)),
          amount: 1,
          reason: 'BENCH-1 adjustCredits load',
          idempotencyKey: `bench-${runId}-${counter++}`,
        },
      },
    });
  const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  const ok = (status: number, text: string) => (status === 200 && text.includes('"replayed":false') ? undefined : 'expected HTTP 200 with an applied adjustment');

  const measure = async (label: string, server: Maybe<{ child: Child; url: string }>): Promise<Maybe<HttpFigures>> => {
    if ('skipped' in server) return server;
    const target: HttpTarget = { url: `${server.url}/graphql`, method: 'POST', headers, makeBody };
    await checkOnce(target, ok);
    log(`adjustCredits: ${label} (${settings.durationSeconds} s, ${settings.connections} connections)`);
    return measureHttp(target, settings, [server.child, emulator.child]);
  };
  const pglite = await measure('the journal on PGlite', gateway);
  if ('skipped' in pglite) throw new Error(pglite.skipped);
  const postgres = await measure('the journal on PostgreSQL', gatewayPostgres);
  const redis = await measure('Redis, the journal on PostgreSQL', gatewayRedis);
  return { pglite, postgres, redis };
}

// ---------------------------------------------------------------------------------------------- history

/**
 * `adjustments` first pages over a large journal: a fresh schema, migrated and seeded here, a gateway of
 * its own on it, one connection (each request waits for the previous one, so the latency is the service's,
 * not a queue's), and the plan of each filter's statement.
 */
async function benchHistory(
  options: BenchOptions,
  startGateway: (name: string, env: NodeJS.ProcessEnv) => Promise<{ child: Child; url: string }>,
  gatewayEnvFor: (schema: string) => NodeJS.ProcessEnv,
  secret: string,
): Promise<HistoryResults> {
  const schema = benchSchema('history', RUN_ID);
  log(`history: seeding ${options.historyRows.toLocaleString('en-US')} adjustments in schema ${schema}`);
  const seeded = await seedHistory(options.databaseUrl, schema, options.historyRows);
  let gateway: { child: Child; url: string } | undefined;
  try {
    log(`history: seeded and analyzed in ${seeded.seedSeconds.toFixed(1)} s`);
    const [sizes] = await queryRows<{ tableBytes: string; indexBytes: string }>(
      seeded.connection.db,
      sql`select pg_table_size('adjustments')::text as "tableBytes", pg_indexes_size('adjustments')::text as "indexBytes"`,
    );
    gateway = await startGateway('gateway-history', gatewayEnvFor(schema));
    const user = historyUser(7 % seeded.users);
    const operator = historyOperator(3 % seeded.operators);
    const cases: { label: string; filter: AdjustmentFilter; graphql: Record<string, unknown> }[] = [
      { label: '{userId}', filter: { userId: user }, graphql: { userId: user } },
      { label: '{operatorId}', filter: { operatorId: operator }, graphql: { operatorId: operator } },
      {
        label: '{operatorId, createdAfter, createdBefore} (7 days)',
        filter: { operatorId: operator, createdAfter: seeded.rangeStart, createdBefore: seeded.rangeEnd },
        graphql: { operatorId: operator, createdAfter: seeded.rangeStart.toISOString(), createdBefore: seeded.rangeEnd.toISOString() },
      },
      { label: '{userId, status: [APPLIED]}', filter: { userId: user, status: ['APPLIED'] }, graphql: { userId: user, status: ['APPLIED'] } },
    ];
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    const settings: LoadSettings = {
      durationSeconds: options.historyDurationSeconds,
      warmupSeconds: Math.min(options.warmupSeconds, 1),
      connections: 1,
    };
    const filters: HistoryFilterFigures[] = [];
    for (const item of cases) {
      const body = JSON.stringify({ query: HISTORY_QUERY, variables: { filter: item.graphql, first: HISTORY_PAGE } });
      const target: HttpTarget = { url: `${gateway.url}/graphql`, method: 'POST', headers, body };
      let pageSize = 0;
      await checkOnce(target, (status, text) => {
        if (status !== 200 || text.includes('"errors"')) return 'expected HTTP 200 with a page of adjustments';
        pageSize = (JSON.parse(text) as { data: { adjustments: { nodes: unknown[] } } }).data.adjustments.nodes.length;
        return pageSize === HISTORY_PAGE ? undefined : `expected a full first page of ${HISTORY_PAGE}, got ${pageSize}`;
      });
      log(`history: adjustments(filter: ${item.label}) (${settings.durationSeconds} s, 1 connection)`);
      const http = await measureHttp(target, settings, [gateway.child]);
      const plan = await explainFirstPage(seeded.connection, item.filter);
      log(`history ${item.label}: p50 ${http.latencyP50Ms} ms, p99 ${http.latencyP99Ms} ms; plan ${plan.indexes.join(', ') || 'no index'}, ${plan.executionMs} ms`);
      filters.push({ label: item.label, filter: item.graphql, http, pageSize, plan });
    }
    return {
      rows: seeded.rows,
      users: seeded.users,
      operators: seeded.operators,
      days: HISTORY_DAYS,
      seedSeconds: seeded.seedSeconds,
      tableBytes: Number(sizes.tableBytes),
      indexBytes: Number(sizes.indexBytes),
      filters,
    };
  } finally {
    await gateway?.child.stop().catch(() => undefined);
    await seeded.connection.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- fan-out

async function benchFanout(options: BenchOptions, gateway: { child: Child; url: string }, secret: string): Promise<FanoutResults> {
  const authorization = `Bearer ${secret}`;
  const wsUrl = `${gateway.url.replace(/^http/, 'ws')}/graphql`;
  const maxLevel = Math.max(...options.subscriberLevels);
  const spare = (i: number) => BENCH_USER(maxLevel + i);
  const pool = new SubscriberPool(wsUrl, authorization);
  const connectTimeoutMs = 60_000;
  const deliveryTimeoutMs = options.smoke ? 5_000 : 10_000;
  let nextDelta = 1;
  const levels: FanoutLevel[] = [];

  try {
    // Warm-up: the code paths of a subscription and a delivery, compiled and their lazy state built,
    // with a handful of subscribers that are then closed; so the baseline below is a warm, idle server.
    const warm = new SubscriberPool(wsUrl, authorization);
    await warm.add(spare, 0, 10, 10, connectTimeoutMs);
    for (let i = 0; i < 30; i++) await adjustOnce(gateway.url, authorization, spare(i % 10), 1, 'BENCH warm-up');
    await sleep(200);
    await warm.closeAll();
    await sleep(500);

    const result: FanoutResults = {
      baseline: await memoryOf(gateway.child),
      levels,
      unexpectedEvents: 0,
      subscriptionErrors: 0,
      closedUnexpectedly: 0,
      loadGeneratorRssBytes: 0,
    };

    const runLevel = async (subscribers: number, users: string[], connectSeconds: number, memory: MemoryFigures & { connections?: number; listeners?: number }) => {
      const idleSeconds = options.idleSeconds;
      const idleStart = await cpuOf(gateway.child);
      const idleStartAt = nowMs();
      if (idleSeconds > 0) await sleep(idleSeconds * 1000);
      const idleEnd = await cpuOf(gateway.child);
      const idleCpuUsPerSecond = idleSeconds > 0 ? ((idleEnd - idleStart) / (nowMs() - idleStartAt)) * 1000 : 0;

      const records: EventRecord[] = [];
      const cpuStart = await cpuOf(gateway.child);
      const phaseStart = nowMs();
      await sendEvents(
        {
          gatewayUrl: gateway.url,
          authorization,
          users,
          count: options.events,
          ratePerSecond: options.eventRate,
          firstDelta: nextDelta,
          maxInFlight: 64,
          timeoutMs: 10_000,
        },
        (record) => {
          records.push(record);
          pool.expect([record]);
        },
      );
      nextDelta += options.events;
      const applied = records.filter((record) => record.ok);
      if (subscribers > 0) {
        const deadline = nowMs() + deliveryTimeoutMs;
        while (applied.some((record) => record.arrivedAt === undefined) && nowMs() < deadline) await sleep(5);
      }
      const phaseEnd = nowMs();
      const cpuEnd = await cpuOf(gateway.child);
      const phaseSeconds = (phaseEnd - phaseStart) / 1000;
      const cpuPerEventUs = (cpuEnd - cpuStart) / records.length;
      const arrived = applied.filter((record) => record.arrivedAt !== undefined);
      const delivery = arrived.map((record) => record.arrivedAt! - record.occurredAt!);
      const endToEnd = arrived.map((record) => record.arrivedAt! - record.sentAt);
      const mutation = records.filter((record) => record.respondedAt !== undefined).map((record) => record.respondedAt! - record.sentAt);
      const baselineMemory = result.baseline;
      const level: FanoutLevel = {
        subscribers,
        connectSeconds,
        connections: memory.connections,
        listeners: memory.listeners,
        events: records.length,
        failedMutations: records.length - applied.length,
        delivered: arrived.length,
        lost: subscribers > 0 ? applied.length - arrived.length : 0,
        deliveryP50Ms: percentile(delivery, 50),
        deliveryP99Ms: percentile(delivery, 99),
        deliveryMaxMs: percentile(delivery, 100),
        endToEndP50Ms: percentile(endToEnd, 50),
        endToEndP99Ms: percentile(endToEnd, 99),
        mutationP50Ms: percentile(mutation, 50),
        mutationP99Ms: percentile(mutation, 99),
        eventPhaseSeconds: phaseSeconds,
        cpuPerEventUs,
        idleCpuUsPerSecond,
        cpuPerEventNetUs: (cpuEnd - cpuStart - idleCpuUsPerSecond * phaseSeconds) / records.length,
        memory,
        rssPerSubscriberBytes: subscribers > 0 ? (memory.rssBytes - baselineMemory.rssBytes) / subscribers : NaN,
        heapPerSubscriberBytes: subscribers > 0 ? (memory.heapUsedBytes - baselineMemory.heapUsedBytes) / subscribers : NaN,
      };
      levels.push(level);
      log(
        subscribers === 0
          ? `fan-out, nobody watching: ${applied.length}/${records.length} applied, CPU ${(cpuPerEventUs / 1000).toFixed(2)} ms/event`
          : `fan-out ${subscribers} subscribers: ${level.delivered}/${applied.length} delivered, delivery p50 ${level.deliveryP50Ms.toFixed(1)} ms ` +
              `p99 ${level.deliveryP99Ms.toFixed(1)} ms, CPU ${(cpuPerEventUs / 1000).toFixed(2)} ms/event, ` +
              `RSS ${(level.rssPerSubscriberBytes / 1024).toFixed(1)} KiB/subscriber`,
      );
    };

    log(`fan-out: baseline RSS ${(result.baseline.rssBytes / 1024 ** 2).toFixed(1)} MiB; events for users nobody watches`);
    // The cost of an adjustment that reaches nobody: what each level's per-event CPU is compared with.
    const nobody = Array.from({ length: SPARE_USERS - 20 }, (_, i) => spare(20 + i));
    await runLevel(0, nobody, 0, result.baseline);

    for (const target of options.subscriberLevels) {
      const from = pool.size;
      log(`fan-out: connecting subscribers ${from}..${target - 1}`);
      const started = nowMs();
      await pool.add(BENCH_USER, from, target, options.connectBatch, connectTimeoutMs);
      const connectSeconds = (nowMs() - started) / 1000;
      // Every subscription registered on the server before measuring (the subscribe message follows the ack).
      await withTimeout(
        (async () => {
          for (;;) {
            const stats = await gateway.child.stats();
            if (stats.extra?.listeners === undefined || stats.extra.listeners >= target) return;
            await sleep(100);
          }
        })(),
        30_000,
        `the gateway registering ${target} subscriptions`,
      );
      await sleep(options.smoke ? 200 : 1_000);
      const memory = await memoryOf(gateway.child);
      const users = Array.from({ length: target }, (_, i) => BENCH_USER(i));
      await runLevel(target, users, connectSeconds, memory);
    }
    result.unexpectedEvents = pool.unexpectedEvents;
    result.subscriptionErrors = pool.subscriptionErrors;
    result.closedUnexpectedly = pool.closedUnexpectedly;
    result.loadGeneratorRssBytes = process.memoryUsage().rss;
    return result;
  } finally {
    await pool.closeAll().catch(() => undefined);
    closeEventAgent();
  }
}

// ------------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env, REPO_ROOT);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${USAGE}\n`);
    return error.message ? 2 : 0;
  }
  let reexec: number | undefined;
  try {
    reexec = ensureOpenFiles(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (reexec !== undefined) return reexec;

  const started = nowMs();
  const watchdog = setTimeout(() => {
    log(`the run took longer than ${options.timeoutSeconds} s (--timeout); stopping`);
    killAllChildren();
    process.exit(1);
  }, options.timeoutSeconds * 1000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }

  const machine = machineInfo(REPO_ROOT);
  const failures: string[] = [];
  const httpWanted = options.only.has('balances') || options.only.has('adjust');
  const redisAvailable = options.redis && httpWanted && (await redisReachable(options.redisUrl));
  const postgresWanted = options.only.has('adjust') || options.only.has('history') || redisAvailable;
  const postgresServer = postgresWanted ? await postgresVersion(options.databaseUrl) : undefined;
  const postgresAvailable = postgresServer !== undefined;
  const postgresNote = !postgresWanted
    ? 'not used by the scenarios run'
    : postgresAvailable
      ? `${postgresServer} answering at ${options.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`
      : 'skipped: no PostgreSQL';
  // Redis-backed instances keep their journal in PostgreSQL: no PostgreSQL, no Redis variant.
  const redisUsable = redisAvailable && postgresAvailable;
  const redisNote = !options.redis
    ? 'skipped: --no-redis'
    : !httpWanted
      ? 'not used by the scenarios run'
      : redisAvailable
        ? `answering at ${options.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}`
        : 'skipped: no Redis';
  log(`${options.smoke ? 'smoke run' : 'full run'}; Redis: ${redisNote}; PostgreSQL: ${postgresNote}; report: ${options.out}`);

  const secret = `bench-${randomBytes(16).toString('hex')}`;
  const maxLevel = options.only.has('fanout') ? Math.max(...options.subscriberLevels) : 0;
  const users = Math.max(ADJUST_USERS, maxLevel + SPARE_USERS);
  const verbose = options.verbose;
  const results: BenchResults = {
    machine,
    options: { ...options, only: [...options.only] },
    runSeconds: 0,
    loadAverageAtEnd: [],
    redis: { url: options.redisUrl.replace(/\/\/[^@/]*@/, '//***@'), available: redisAvailable, note: redisNote },
    postgres: { available: postgresAvailable, note: postgresNote },
    failures,
  };

  let baseline: Baseline | undefined;
  if (options.baseline) {
    try {
      baseline = exportBaseline(options.baseline);
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    log(`baseline: the service at ${options.baseline} (${baseline.commit}), exported to ${baseline.dir}`);
  }
  const children: Child[] = [];
  // Every schema this run creates, dropped at the end (also when a scenario failed).
  const schemas: string[] = [];
  const postgresSchema = benchSchema('adjust', RUN_ID);
  const redisSchema = benchSchema('adjust_redis', RUN_ID);
  try {
    const emulatorStart = await startChild({
      name: 'emulator',
      script: 'scripts/bench/serve-emulator.ts',
      env: { ...baseEnv(), BENCH_USERS: String(users) },
      verbose,
      fromSource: options.fromSource,
    });
    children.push(emulatorStart.child);
    const info = emulatorStart.ready.info ?? {};
    const emulator: Emulator = { child: emulatorStart.child, url: info.url, apiKey: info.apiKey, projectId: info.projectId };

    const start = async (name: string, script: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = [], root?: string) => {
      const { child, ready } = await startChild({ name, script, env, nodeFlags, verbose, root, fromSource: options.fromSource });
      children.push(child);
      return { child, url: `http://127.0.0.1:${ready.port}` };
    };
    // Started together (start-up is most of a smoke run); each idles while another is measured.
    const referenceEnv = {
      ...baseEnv(),
      UPSTREAM_URL: emulator.url,
      UPSTREAM_API_KEY: emulator.apiKey,
      UPSTREAM_PROJECT_ID: emulator.projectId,
      ADMIN_SECRET: secret,
    };
    const [plain, plainStandalone, minimalNest, minimalNestFastify, gateway, gatewayPg, gatewayRedis, fanoutGateway, baselineGateway] = await Promise.all([
      options.only.has('balances') ? start('plain-apollo', 'scripts/bench/plain-apollo-server.ts', referenceEnv) : undefined,
      options.only.has('balances') ? start('plain-standalone', 'scripts/bench/plain-apollo-server.ts', { ...referenceEnv, PLAIN_PLATFORM: 'standalone' }) : undefined,
      options.only.has('balances') ? start('minimal-nest', 'scripts/bench/minimal-nest-app.ts', referenceEnv) : undefined,
      options.only.has('balances') ? start('minimal-nest-fastify', 'scripts/bench/minimal-nest-app.ts', { ...referenceEnv, MINIMAL_PLATFORM: 'fastify' }) : undefined,
      httpWanted
        ? start('gateway', 'scripts/bench/serve-gateway.ts', gatewayEnv(options, emulator, secret, { kind: 'pglite' }), gatewayFlags(options, 'gateway', false))
        : undefined,
      options.only.has('adjust') && postgresAvailable
        ? (schemas.push(postgresSchema),
          start(
            'gateway-pg',
            'scripts/bench/serve-gateway.ts',
            gatewayEnv(options, emulator, secret, { kind: 'postgres', schema: postgresSchema }),
            gatewayFlags(options, 'gateway-pg', false),
          ))
        : undefined,
      redisUsable
        ? (schemas.push(redisSchema),
          start(
            'gateway-redis',
            'scripts/bench/serve-gateway.ts',
            gatewayEnv(options, emulator, secret, { kind: 'redis', schema: redisSchema }),
            gatewayFlags(options, 'gateway-redis', false),
          ))
        : undefined,
      options.only.has('fanout')
        ? start('gateway-fanout', 'scripts/bench/serve-gateway.ts', gatewayEnv(options, emulator, secret, { kind: 'pglite' }), gatewayFlags(options, 'gateway-fanout', true))
        : undefined,
      baseline && options.only.has('balances')
        ? start('gateway-baseline', 'scripts/bench/serve-gateway.ts', gatewayEnv(options, emulator, secret, { kind: 'pglite' }), [], baseline.dir)
        : undefined,
    ]);
    const redisGateway: Maybe<{ child: Child; url: string }> = gatewayRedis ?? {
      skipped: redisNote.startsWith('skipped') ? redisNote : redisAvailable ? postgresNote : 'skipped: no Redis',
    };
    const postgresGateway: Maybe<{ child: Child; url: string }> = gatewayPg ?? { skipped: postgresNote };
    const settings: LoadSettings = {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
    };

    const attempt = async <T>(name: string, body: () => Promise<T>): Promise<Maybe<T>> => {
      try {
        return await body();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`${name} failed: ${message}`);
        failures.push(`${name}: ${message}`);
        return { skipped: `failed: ${message.split('\n')[0]}` };
      }
    };
    if (options.only.has('balances')) {
      results.balances = await attempt('balances', () =>
        benchBalances(
          options,
          settings,
          emulator,
          plain!,
          plainStandalone!,
          minimalNest!,
          minimalNestFastify!,
          gateway!,
          redisGateway,
          secret,
          baselineGateway && { ...baseline!, ...baselineGateway },
        ),
      );
    }
    if (options.only.has('adjust')) {
      results.adjust = await attempt('adjustCredits', () => benchAdjust(settings, emulator, gateway!, postgresGateway, redisGateway, secret));
    }
    if (options.only.has('history')) {
      if (!postgresAvailable) {
        results.history = { skipped: postgresNote };
      } else {
        schemas.push(benchSchema('history', RUN_ID));
        results.history = await attempt('history', () =>
          benchHistory(
            options,
            (name, env) => start(name, 'scripts/bench/serve-gateway.ts', env, gatewayFlags(options, name, false)),
            (schema) => gatewayEnv(options, emulator, secret, { kind: 'postgres', schema }),
            secret,
          ),
        );
      }
    }
    if (options.only.has('fanout')) {
      results.fanout = await attempt('fan-out', () => benchFanout(options, fanoutGateway!, secret));
    }
    if (options.only.has('tracing')) {
      results.tracing = await attempt('tracing', async () => {
        const sink = await start('otlp-sink', 'scripts/bench/otlp-sink.ts', baseEnv());
        const off = gatewayEnv(options, emulator, secret, { kind: 'pglite' });
        const on = { ...off, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
        const [tracingOff, tracingOn, tracingRatio] = await Promise.all([
          start('gateway-tracing-off', 'scripts/bench/serve-gateway.ts', off),
          start('gateway-tracing-on', 'scripts/bench/serve-gateway.ts', on),
          start('gateway-tracing-ratio', 'scripts/bench/serve-gateway.ts', { ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }),
        ]);
        return benchTracing(options, settings, emulator, { off: tracingOff, on: tracingOn, ratio: tracingRatio }, sink.child, secret);
      });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`failed: ${message}`);
    failures.push(message);
  } finally {
    // Gracefully, so --cpu-prof profiles are written; a child that hangs is killed.
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    killAllChildren();
    if (baseline) rmSync(baseline.dir, { recursive: true, force: true });
    for (const schema of schemas) {
      await dropSchema(options.databaseUrl, schema).catch((error: unknown) =>
        log(`could not drop schema ${schema}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }

  results.runSeconds = (nowMs() - started) / 1000;
  results.loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);
  mkdirSync(dirname(resolve(options.out)), { recursive: true });
  writeReport(resolve(options.out), results);
  if (options.json) {
    mkdirSync(dirname(resolve(options.json)), { recursive: true });
    writeFileSync(resolve(options.json), JSON.stringify(results, null, 2) + '\n');
  }
  if (options.profileBalancesDir) log(`balances profiles (measured windows) in ${resolve(options.profileBalancesDir)}`);
  if (options.profileDir) log(`CPU profiles in ${resolve(options.profileDir)} (open in Chrome DevTools or speedscope)`);
  log(`report written to ${options.out} (${results.runSeconds.toFixed(0)} s)`);
  // Its own processes and its own section, at the end of the report (scripts/bench/bulk.ts).
  if (options.only.has('bulk')) {
    await benchBulk({
      smoke: options.smoke,
      out: resolve(options.out),
      databaseUrl: options.databaseUrl,
      logLevel: options.logLevel,
      verbose: options.verbose,
      fromSource: options.fromSource,
    }).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      log(`bulk failed: ${message}`);
      failures.push(`bulk: ${message}`);
    });
  }
  clearTimeout(watchdog);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllChildren();
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
