/**
 * `npm run bench:memory`: the resident memory of the built gateway (`node dist/main.js`, run
 * `npm run build` first) on each database it can use, once listening and after 50 adjustments, against
 * the RevenueCat emulator (in this process; only the gateway's process is measured).
 *
 *   pglite:<dir> (new)       a directory that does not exist yet: the database is created at start
 *   pglite:<dir> (existing)  the same directory, opened again
 *   pglite:memory            the demo's database
 *   postgres                 BENCH_DATABASE_URL (default the local test database), in a schema of its own, for reference
 *
 * Linux only (reads /proc/<pid>/status). Prints a table, then one JSON line with every figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../../emulator/revenuecat-emulator';

const ADJUSTMENTS = 50;
const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');
const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Figures {
  case: string;
  startMs: number;
  /** Resident set once the gateway listens. */
  rssStartMib: number;
  rssAfterAdjustmentsMib: number;
  /** The highest resident set the process had (VmHWM). */
  peakMib: number;
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

async function startGateway(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /"port":(\d+)/.exec(output)?.[1];
      if (port !== undefined) resolve(`http://127.0.0.1:${port}/graphql`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before listening:\n${output}`)));
  });
  return { child, url, startMs: Date.now() - started };
}

async function stopGateway(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function adjust(url: string, secret: string, userId: string, i: number): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({
      query: `mutation($i: String!) { adjustCredits(input: { userId: "${userId}", amount: 5, reason: "BENCH memory", idempotencyKey: $i }) { balance } }`,
      variables: { i: `bench-memory-${userId}-${i}` },
    }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (response.status !== 200 || body.errors) throw new Error(`adjustCredits answered ${response.status}: ${JSON.stringify(body)}`);
}

async function measure(name: string, databaseEnv: Record<string, string>, emulator: RevenueCatEmulator, emulatorUrl: string): Promise<Figures> {
  const secret = randomBytes(16).toString('hex');
  const userId = `mem_user_${randomBytes(4).toString('hex')}`;
  emulator.addCustomer(userId, { CRD: 1_000_000 });
  const { child, url, startMs } = await startGateway({
    ...databaseEnv,
    ADMIN_SECRET: secret,
    REVENUECAT_API_KEY: emulator.apiKey,
    REVENUECAT_PROJECT_ID: emulator.projectId,
    REVENUECAT_API_URL: emulatorUrl,
    RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '100000',
  });
  try {
    const atStart = memory(child.pid!);
    for (let i = 0; i < ADJUSTMENTS; i++) await adjust(url, secret, userId, i);
    const after = memory(child.pid!);
    return { case: name, startMs, rssStartMib: atStart.rss, rssAfterAdjustmentsMib: after.rss, peakMib: after.peak };
  } finally {
    await stopGateway(child);
  }
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const emulator = new RevenueCatEmulator({
    rateLimits: { project_configuration: Infinity, customer_information: Infinity, virtual_currencies_create_transaction: Infinity },
    record: false,
  });
  const emulatorUrl = await emulator.listen(0, '127.0.0.1');
  const root = mkdtempSync(join(tmpdir(), 'pglite-memory-'));
  const dir = join(root, 'data');
  const schema = `bench_memory_${randomBytes(4).toString('hex')}`;
  const results: Figures[] = [];
  try {
    results.push(await measure('pglite:<dir> (new)', { DATABASE_URL: `pglite:${dir}` }, emulator, emulatorUrl));
    results.push(await measure('pglite:<dir> (existing)', { DATABASE_URL: `pglite:${dir}` }, emulator, emulatorUrl));
    results.push(await measure('pglite:memory', { DATABASE_URL: 'pglite:memory' }, emulator, emulatorUrl));
    if (process.env.BENCH_SKIP_POSTGRES !== '1') {
      try {
        results.push(await measure('postgres', { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema }, emulator, emulatorUrl));
      } finally {
        const client = new Client({ connectionString: POSTGRES_URL });
        await client
          .connect()
          .then(() => client.query(`drop schema if exists "${schema}" cascade`))
          .catch(() => undefined);
        await client.end().catch(() => undefined);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    await emulator.close();
  }
  const pad = (text: string | number, width: number) => String(text).padEnd(width);
  process.stdout.write(`${pad('database', 26)}${pad('start ms', 10)}${pad('RSS listening', 15)}${pad(`RSS after ${ADJUSTMENTS}`, 14)}peak (MiB)\n`);
  for (const r of results) {
    process.stdout.write(`${pad(r.case, 26)}${pad(r.startMs, 10)}${pad(r.rssStartMib, 15)}${pad(r.rssAfterAdjustmentsMib, 14)}${r.peakMib}\n`);
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, results })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
