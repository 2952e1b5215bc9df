import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The benchmark itself is never part of `npm test` (it takes minutes and loads every core); this runs its
 * `--smoke` mode, tiny numbers through every scenario, so `npm run bench` cannot quietly rot: it must
 * start every server, measure every figure, write the report and exit 0.
 */
describe('npm run bench -- --smoke', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the servers, measures every scenario, writes the report and exits 0', async () => {
    const out = join(dir, 'BENCHMARKS.md');
    const json = join(dir, 'bench.json');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'scripts', 'bench', 'run.ts'), '--smoke', '--out', out, '--json', json],
      { cwd: join(__dirname, '..'), env: { ...process.env, BENCH_TIMEOUT: '210' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the smoke run exited with ${code}:\n${output}`);

    const report = readFileSync(out, 'utf8');
    // A throughput figure for each of the six balances paths, and adjustCredits on each journal.
    expect(report).toMatch(/\| direct: GET the emulator[^|]*\| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| plain `@apollo\/server`[^|]*\| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| plain `@apollo\/server` standalone \(`startStandaloneServer`[^|]*\| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| minimal NestJS \+ `@nestjs\/apollo` app[^|]*\| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| the same minimal app on Fastify \(`@nestjs\/platform-fastify`\) \| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| \*\*the service\*\* \| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| the service, one instance, journal on PGlite[^|]*\| \*\*[\d,]+\*\* \|/);
    expect(report).toMatch(/\| the service, one instance, journal on PostgreSQL \| \*\*[\d,]+\*\* \|/);
    // With Redis: a figure, or said to be skipped (no Redis here), never silently absent.
    expect(report).toMatch(/\| the service with Redis \(counters in Redis\), journal on PostgreSQL \| (\*\*[\d,]+\*\*|skipped: [^|]+) \|/);
    expect(report).toContain('| before (Redis idempotency store)');
    // History: each filter's first page measured over HTTP, its plan read, the target judged.
    for (const label of ['{userId}', '{operatorId}', '{operatorId, createdAfter, createdBefore} (7 days)', '{userId, status: [APPLIED]}']) {
      expect(report).toContain(`| \`${label}\` | **`);
      expect(report).toMatch(new RegExp(`\\| 5\\. \`adjustments\\(filter: ${label.replace(/[{}()[\]]/g, '\\$&')}\\)\` first page \\|.*\\| \\*\\*(PASS|MISS)\\*\\* \\|`));
    }
    expect(report).toContain('10,000 adjustments over 20 users, 1 operator (');
    // Fan-out latency and memory at the smoke's largest level, and the targets judged.
    expect(report).toMatch(/\| 50 \| 10 \/ 10 \/ 0 \| [\d.]+ \| \*\*[\d.]+\*\* \|/);
    expect(report).toMatch(/\| 50 \| 50 \/ 50 \| [\d.]+ \| [\d.]+ \| \*\*-?[\d.]+\*\* \|/);
    expect(report).toMatch(/\| 1\. `balances` throughput \|.*\| \*\*(PASS|MISS)\*\* \|/);
    expect(report).toMatch(/\| 4\. memory per idle subscriber \|.*\| \*\*(PASS|MISS)\*\* \|/);
    expect(report).toContain('## Before and after');
    // Tracing: balances with it off, on, and at a 10% ratio.
    for (const label of ['tracing off (no OTEL_* variables)', 'tracing on, default sampler', 'tracing on, `OTEL_TRACES_SAMPLER=traceidratio`']) {
      expect(report).toMatch(new RegExp(`\\| ${label.replace(/[()*`]/g, '\\$&')}[^|]*\\| \\*\\*[\\d,]+\\*\\* \\|`));
    }
    // The servers ran compiled, as npm start runs them, not under ts-node.
    expect(report).toContain('**Compiled, as shipped**');
    // The bulk job's section, last: its rate as a share of the bulk budget, RevenueCat's 429s, adjustCredits meanwhile.
    expect(report).toMatch(/\| achieved bulk rate, share of the bulk budget \| >= 95% \| [\d,]+ a minute, \*\*[\d.]+%\*\* \| \*\*(PASS|MISS)\*\* \|/);
    expect(report).toMatch(/\| RevenueCat 429s \| 0 \| \*\*\d+\*\* \|/);
    expect(report.trimEnd().endsWith('<!-- END bulk adjustments -->')).toBe(true);

    const results = JSON.parse(readFileSync(json, 'utf8'));
    expect(results.failures).toEqual([]);
    expect(results.balances.service.requestsPerSecond).toBeGreaterThan(0);
    expect(results.balances.minimalNest.requestsPerSecond).toBeGreaterThan(0);
    expect(results.balances.minimalNestFastify.requestsPerSecond).toBeGreaterThan(0);
    expect(results.balances.plainStandalone.requestsPerSecond).toBeGreaterThan(0);
    expect(results.balances.rounds).toHaveLength(1);
    expect(results.history.rows).toBe(10_000);
    expect(results.history.filters.map((filter: { pageSize: number }) => filter.pageSize)).toEqual([20, 20, 20, 20]);
    for (const filter of results.history.filters) expect(filter.plan.indexes.length).toBeGreaterThan(0);
    expect(results.adjust.postgres.requestsPerSecond).toBeGreaterThan(0);
    expect(results.tracing.sink.exports).toBeGreaterThan(0);
    expect(results.fanout.levels.map((level: { subscribers: number }) => level.subscribers)).toEqual([0, 25, 50]);
  }, 240_000);
});
