/**
 * The bulk adjustment benchmark: a job of 2,000 items (100 with --smoke) against the RevenueCat emulator,
 * which enforces the raised transaction budget the gateway is given (6,000 a minute; bulk may use 75%),
 * while support's own `adjustCredits` keep coming at 5 a second. Measures the achieved bulk rate as a share
 * of the bulk budget (target >= 95%), RevenueCat 429s (target 0), and the p99 of those adjustCredits.
 *
 * The emulator and the gateway each run in a process of their own (lib/children.ts); the journal is on
 * PostgreSQL (a bench_bulk_* schema, dropped after) when it answers, else embedded in memory. Writes its
 * section at the end of BENCHMARKS.md (or --out), between its own markers, keeping everything else.
 *
 *   npm run bench -- --only bulk           (from run.ts)
 *   node -r ts-node/register/transpile-only scripts/bench/bulk.ts [--smoke] [--out <file>] [--items <n>] [--budget <n>] [--from-source]
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { Child, killAllChildren, REPO_ROOT, startChild } from './lib/children';
import { benchSchema, dropSchema } from './lib/history';
import { nowMs, percentile, sleep } from './lib/stats';

export const BULK_BEGIN_MARKER = '<!-- BEGIN bulk adjustments: rewritten by `npm run bench` (scripts/bench/bulk.ts) up to its END marker -->';
export const BULK_END_MARKER = '<!-- END bulk adjustments -->';

export interface BulkBenchOptions {
  smoke: boolean;
  /** The report to write the section into. */
  out: string;
  databaseUrl: string;
  items?: number;
  /** REVENUECAT_TRANSACTIONS_PER_MINUTE, and the emulator's own limit. */
  budget?: number;
  sharePercent?: number;
  /** support's adjustCredits a second while the job runs. */
  interactivePerSecond?: number;
  logLevel?: string;
  verbose?: boolean;
  /** Run the servers under ts-node instead of compiled (children.ts, compiledTree). */
  fromSource?: boolean;
  /** Run the gateway with --cpu-prof, its profile written here. */
  profileDir?: string;
}

export interface BulkFigures {
  items: number;
  budgetPerMinute: number;
  sharePercent: number;
  bulkBudgetPerMinute: number;
  journal: string;
  applied: number;
  /** From the first item settled to the last. */
  spanSeconds: number;
  achievedPerMinute: number;
  /** achievedPerMinute / bulkBudgetPerMinute. */
  shareOfBudget: number;
  /** From startBulkAdjustment to COMPLETED, as a client sees it. */
  wallSeconds: number;
  upstream429: number;
  /** The job's etaSeconds at about a quarter of the way, and how long the rest actually took. */
  etaAtQuarterSeconds: number | null;
  actualRestSeconds: number | null;
  interactive: { sent: number; failed: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** The gateway's CPU time from start to COMPLETED (items, support's adjustments, the polling), per item. */
  gatewayCpuMsPerItem: number;
  cpus: number;
  loadAverage: number[];
}

const SECRET = `bench-bulk-${randomBytes(12).toString('hex')}`;
const JOB_FIELDS = 'id status total queued applied rejected unknown cancelled etaSeconds';
const BENCH_USER = (i: number) => `bench_user_${i}`;
const INTERACTIVE_USERS = 10;

function log(message: string): void {
  process.stderr.write(`[bench bulk ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

async function graphql<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function metricValue(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match && match[1] === name && wanted.every((label) => match[2].split(',').includes(label))) total += Number(match[3]);
  }
  return total;
}

export async function benchBulk(options: BulkBenchOptions): Promise<BulkFigures> {
  const items = options.items ?? (options.smoke ? 100 : 2000);
  const budget = options.budget ?? 6000;
  const sharePercent = options.sharePercent ?? 75;
  const interactivePerSecond = options.interactivePerSecond ?? 5;
  const bulkBudgetPerMinute = (budget * sharePercent) / 100;
  const children: Child[] = [];
  const usePostgres = await postgresAnswers(options.databaseUrl);
  const schema = benchSchema('bulk', randomBytes(4).toString('hex'));
  try {
    const emulator = await startChild({
      name: 'emulator',
      script: 'scripts/bench/serve-emulator.ts',
      env: { ...baseEnv(), BENCH_USERS: String(items + INTERACTIVE_USERS), BENCH_TRANSACTIONS_PER_MINUTE: String(budget) },
      verbose: options.verbose,
      fromSource: options.fromSource,
    });
    children.push(emulator.child);
    const info = emulator.ready.info ?? {};
    const gateway = await startChild({
      name: 'gateway-bulk',
      script: 'scripts/bench/serve-gateway.ts',
      env: {
        ...baseEnv(),
        LOG_LEVEL: options.logLevel ?? 'warn',
        ADMIN_SECRET: SECRET,
        REVENUECAT_API_KEY: info.apiKey,
        REVENUECAT_PROJECT_ID: info.projectId,
        REVENUECAT_API_URL: info.url,
        REVENUECAT_TRANSACTIONS_PER_MINUTE: String(budget),
        BULK_SHARE_PERCENT: String(sharePercent),
        RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '1000000',
        RATE_LIMIT_READS_PER_MINUTE: '1000000',
        RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
        RATE_LIMIT_BULK_ITEMS_PER_MINUTE: '1000000',
        ...(usePostgres ? { DATABASE_URL: options.databaseUrl, DATABASE_SCHEMA: schema } : { DATABASE_URL: 'pglite:memory' }),
      },
      verbose: options.verbose,
      fromSource: options.fromSource,
      nodeFlags: options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`, `--cpu-prof-name=gateway-bulk-${Date.now()}.cpuprofile`] : [],
    });
    children.push(gateway.child);
    const url = `http://127.0.0.1:${gateway.ready.port}`;
    log(`${items} items at ${budget} transactions a minute (bulk ${bulkBudgetPerMinute}), journal on ${usePostgres ? 'PostgreSQL' : 'PGlite'}`);

    const { createBulkAdjustment: job } = await graphql<{ createBulkAdjustment: { id: string } }>(
      url,
      `
        mutation {
          createBulkAdjustment(input: { reason: "BENCH bulk compensation" }) {
            id
          }
        }
      `,
    );
    for (let i = 0; i < items; i += 500) {
      const batch = Array.from({ length: Math.min(500, items - i) }, (_, j) => ({ userId: BENCH_USER(i + j), amount: 1 }));
      await graphql(url, 'mutation ($id: ID!, $items: [BulkAdjustmentItemInput!]!) { addBulkAdjustmentItems(id: $id, items: $items) { total } }', {
        id: job.id,
        items: batch,
      });
    }
    const before429 = await metricValue(url, 'credits_upstream_requests_total', { outcome: '429' });
    // Warm the adjustCredits path (currency list cached, code compiled) before it is timed.
    for (let i = 0; i < 5; i++) await adjustOnce(url, BENCH_USER(items + (i % INTERACTIVE_USERS)));

    const cpuBefore = await gateway.child.stats();
    const startedAt = nowMs();
    await graphql(
      url,
      `
        mutation ($id: ID!) {
          startBulkAdjustment(id: $id) {
            id
          }
        }
      `,
      { id: job.id },
    );
    let done = false;
    const latencies: number[] = [];
    let failed = 0;
    const support = (async () => {
      for (let n = 0; !done; n++) {
        const due = startedAt + (n * 1000) / interactivePerSecond;
        if (due > nowMs()) await sleep(due - nowMs());
        if (done) break;
        const sent = nowMs();
        const ok = await adjustOnce(url, BENCH_USER(items + (n % INTERACTIVE_USERS)));
        if (ok) latencies.push(nowMs() - sent);
        else failed += 1;
      }
    })();

    let etaAtQuarter: { eta: number; at: number } | null = null;
    let status = 'RUNNING';
    while (status === 'RUNNING') {
      await sleep(250);
      const { bulkAdjustment } = await graphql<{ bulkAdjustment: { status: string; applied: number; etaSeconds: number | null } }>(
        url,
        `query ($id: ID!) { bulkAdjustment(id: $id) { ${JOB_FIELDS} } }`,
        { id: job.id },
      );
      status = bulkAdjustment.status;
      if (etaAtQuarter === null && bulkAdjustment.applied >= items / 4 && bulkAdjustment.etaSeconds !== null) {
        etaAtQuarter = { eta: bulkAdjustment.etaSeconds, at: nowMs() };
      }
    }
    const finishedAt = nowMs();
    const cpuAfter = await gateway.child.stats();
    done = true;
    await support;

    const settled: number[] = [];
    let applied = 0;
    for (let after: string | null = null, first = true; first || after; first = false) {
      const page: { bulkAdjustment: { items: { nodes: Array<{ status: string; settledAt: string }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } } =
        await graphql(
          url,
          'query ($id: ID!, $first: Int!, $after: String) { bulkAdjustment(id: $id) { items(first: $first, after: $after) { nodes { status settledAt } pageInfo { endCursor hasNextPage } } } }',
          {
            id: job.id,
            first: 100,
            after,
          },
        );
      for (const node of page.bulkAdjustment.items.nodes) {
        if (node.status === 'APPLIED') applied += 1;
        settled.push(Date.parse(node.settledAt));
      }
      after = page.bulkAdjustment.items.pageInfo.hasNextPage ? page.bulkAdjustment.items.pageInfo.endCursor : null;
    }
    const spanMs = Math.max(...settled) - Math.min(...settled);
    const achievedPerMinute = ((settled.length - 1) * 60_000) / spanMs;
    const figures: BulkFigures = {
      items,
      budgetPerMinute: budget,
      sharePercent,
      bulkBudgetPerMinute,
      journal: usePostgres ? 'PostgreSQL' : 'PGlite (in memory)',
      applied,
      spanSeconds: spanMs / 1000,
      achievedPerMinute,
      shareOfBudget: achievedPerMinute / bulkBudgetPerMinute,
      wallSeconds: (finishedAt - startedAt) / 1000,
      upstream429: (await metricValue(url, 'credits_upstream_requests_total', { outcome: '429' })) - before429,
      etaAtQuarterSeconds: etaAtQuarter?.eta ?? null,
      actualRestSeconds: etaAtQuarter ? (finishedAt - etaAtQuarter.at) / 1000 : null,
      interactive: {
        sent: latencies.length + failed,
        failed,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: Math.max(...latencies),
      },
      gatewayCpuMsPerItem: (cpuAfter.cpuUserUs + cpuAfter.cpuSystemUs - cpuBefore.cpuUserUs - cpuBefore.cpuSystemUs) / 1000 / items,
      cpus: cpus().length,
      loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    };
    log(
      `achieved ${figures.achievedPerMinute.toFixed(0)}/min = ${(figures.shareOfBudget * 100).toFixed(1)}% of the bulk budget, ` +
        `${figures.upstream429} upstream 429s, adjustCredits p99 ${figures.interactive.p99Ms.toFixed(1)} ms`,
    );
    writeBulkSection(options.out, figures, options.smoke);
    return figures;
  } finally {
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    if (usePostgres) await dropSchema(options.databaseUrl, schema).catch((error: Error) => log(`could not drop ${schema}: ${error.message}`));
  }
}

async function adjustOnce(url: string, userId: string): Promise<boolean> {
  try {
    const data = await graphql<{ adjustCredits: { id: string } | null }>(url, 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id } }', {
      input: { userId, amount: 1, reason: 'BENCH support adjustment' },
    });
    return data.adjustCredits !== null;
  } catch {
    return false;
  }
}

const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

function section(figures: BulkFigures, smoke: boolean): string {
  const pass = (ok: boolean) => (ok ? '**PASS**' : '**MISS**');
  const eta =
    figures.etaAtQuarterSeconds === null
      ? 'not sampled'
      : `${figures.etaAtQuarterSeconds} s predicted at a quarter of the way, ${figures.actualRestSeconds!.toFixed(1)} s taken`;
  return `## Bulk adjustments${smoke ? ' (smoke run: figures not meaningful)' : ''}

One job of ${thousands(figures.items)} items (one grant per customer) against the RevenueCat emulator, which enforces
the raised budget the gateway is given: \`REVENUECAT_TRANSACTIONS_PER_MINUTE=${figures.budgetPerMinute}\`,
\`BULK_SHARE_PERCENT=${figures.sharePercent}\`, so ${thousands(figures.bulkBudgetPerMinute)} bulk transactions a minute. Meanwhile an
\`adjustCredits\` every 200 ms (support's own work, on other customers). Emulator and gateway in processes of
their own; journal on ${figures.journal}; ${figures.cpus} CPUs, load ${figures.loadAverage.join(' / ')} at the end.
Run by \`npm run bench -- --only bulk\` (\`scripts/bench/bulk.ts\`); the rate is measured between the first and
the last item's \`settledAt\` in the journal.

| figure | target | measured | |
|---|---|---|---|
| items applied | ${thousands(figures.items)} | ${thousands(figures.applied)} | ${pass(figures.applied === figures.items)} |
| achieved bulk rate, share of the bulk budget | >= 95% | ${thousands(figures.achievedPerMinute)} a minute, **${(figures.shareOfBudget * 100).toFixed(1)}%** | ${pass(figures.shareOfBudget >= 0.95)} |
| RevenueCat 429s | 0 | **${figures.upstream429}** | ${pass(figures.upstream429 === 0)} |
| \`adjustCredits\` while the job runs (p50 / p99 / max) | | ${figures.interactive.p50Ms.toFixed(1)} / **${figures.interactive.p99Ms.toFixed(1)}** / ${figures.interactive.maxMs.toFixed(1)} ms, ${figures.interactive.sent} sent, ${figures.interactive.failed} failed | |
| start to COMPLETED, as a client polling every 250 ms sees it | | ${figures.wallSeconds.toFixed(1)} s (items settled over ${figures.spanSeconds.toFixed(1)} s) | |
| gateway CPU per item (support's adjustments and the polling included) | | ${figures.gatewayCpuMsPerItem.toFixed(2)} ms | |
| \`etaSeconds\` | | ${eta} | |
`;
}

/** The section at the end of the report, replacing the previous one; nothing else is touched. */
export function writeBulkSection(out: string, figures: BulkFigures, smoke: boolean): void {
  const block = `${BULK_BEGIN_MARKER}\n\n${section(figures, smoke)}\n${BULK_END_MARKER}\n`;
  let text = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const begin = text.indexOf(BULK_BEGIN_MARKER);
  const end = text.indexOf(BULK_END_MARKER);
  if (begin !== -1 && end > begin) {
    text = text.slice(0, begin) + block + text.slice(end + BULK_END_MARKER.length).replace(/^\n/, '');
  } else {
    text = `${text.replace(/\n*$/, '')}${text ? '\n\n' : ''}${block}`;
  }
  writeFileSync(out, text);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index === -1 ? undefined : argv[index + 1];
  };
  const smoke = argv.includes('--smoke');
  benchBulk({
    smoke,
    out: resolve(flag('out') ?? (smoke ? `/tmp/bench-bulk-${process.pid}.md` : `${REPO_ROOT}/BENCHMARKS.md`)),
    databaseUrl: flag('database-url') ?? process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    items: flag('items') ? Number(flag('items')) : undefined,
    budget: flag('budget') ? Number(flag('budget')) : undefined,
    verbose: argv.includes('--verbose'),
    fromSource: argv.includes('--from-source'),
    profileDir: flag('profile'),
  }).then(
    () => process.exit(0),
    (error: unknown) => {
      killAllChildren();
      process.stderr.write(`bulk bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
