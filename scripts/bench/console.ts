/**
 * `npm run bench:console`: the support console as a support person meets it. Builds today's console,
 * serves it from the gateway (emulator and gateway in child processes, the journal in `pglite:memory`
 * as in the demo), and measures in headless Chromium the time from navigation to
 * `/console/customers/user_2abcXYZ` until the `Balances` table shows a row (token already in
 * sessionStorage; each navigation in a fresh browser context, after one warm-up). Prints the figures
 * and the first load's JavaScript and CSS, gzipped. `--runs N` (default 10), `--verbose`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { Child, killAllChildren, REPO_ROOT, startChild } from './lib/children';

// The DOM as the page functions below use it: the project compiles without TypeScript's DOM library.
declare const window: Record<string, unknown>;
declare const sessionStorage: { setItem(key: string, value: string): void };
declare const performance: { now(): number };
declare const document: { querySelector(selector: string): unknown; documentElement: unknown };
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: { childList: boolean; subtree: boolean }): void;
  disconnect(): void;
}

const SECRET = `bench-${randomBytes(16).toString('hex')}`;
const USER = 'user_2abcXYZ';
/** The console keeps its token under this sessionStorage key (console/src/session.tsx). */
const TOKEN_KEY = 'credits-console.token';
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function median(sorted: number[]): number {
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function log(message: string): void {
  process.stderr.write(`[bench console ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

/** The files index.html loads first (its module script and stylesheets), raw and `gzip -9` sizes. */
function firstLoad(dir: string): Array<{ file: string; raw: number; gzipped: number }> {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]);
  return ['index.html', ...files].map((file) => {
    const bytes = readFileSync(join(dir, file));
    return { file, raw: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
  });
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg === -1 ? 10 : Number(process.argv[runsArg + 1]);
  const verbose = process.argv.includes('--verbose');
  const dir = mkdtempSync(join(tmpdir(), 'bench-console-'));
  const children: Child[] = [];
  try {
    log('building the console');
    execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'console/vite.config.mts', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: 'inherit',
      },
    );
    const emulator = await startChild({ name: 'emulator', script: 'scripts/bench/serve-emulator.ts', env: baseEnv(), verbose });
    children.push(emulator.child);
    const info = emulator.ready.info ?? {};
    const gateway = await startChild({
      name: 'gateway',
      script: 'scripts/bench/serve-gateway.ts',
      env: {
        ...baseEnv(),
        LOG_LEVEL: 'warn',
        ADMIN_SECRET: SECRET,
        REVENUECAT_API_KEY: info.apiKey,
        REVENUECAT_PROJECT_ID: info.projectId,
        REVENUECAT_API_URL: info.url,
        DATABASE_URL: 'pglite:memory',
        CONSOLE_DIR: dir,
      },
      verbose,
    });
    children.push(gateway.child);
    const origin = `http://127.0.0.1:${gateway.ready.port}`;
    const target = `${origin}/console/customers/${USER}`;

    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const timings: number[] = [];
    try {
      for (let run = 0; run <= runs; run++) {
        const context = await browser.newContext();
        // The token as a signed-in tab holds it, and a watch that notes when the first balance row is in the DOM.
        await context.addInitScript(
          ({ key, token }) => {
            sessionStorage.setItem(key, token);
            const observer = new MutationObserver(() => {
              if (document.querySelector('table[aria-label="Balances"] tbody tr td:nth-child(3)')) {
                window.__balancesAt = performance.now();
                observer.disconnect();
              }
            });
            observer.observe(document.documentElement ?? document, { childList: true, subtree: true });
          },
          { key: TOKEN_KEY, token: SECRET },
        );
        const page = await context.newPage();
        await page.goto(target);
        await page.waitForFunction(() => typeof window.__balancesAt === 'number', undefined, { timeout: 30_000 });
        const ms = (await page.evaluate(() => window.__balancesAt)) as number;
        await context.close();
        if (run > 0) timings.push(ms);
        log(`${run === 0 ? 'warm-up' : `run ${run}`}: ${ms.toFixed(0)} ms`);
      }
    } finally {
      await browser.close();
    }

    const sorted = [...timings].sort((a, b) => a - b);
    const sizes = firstLoad(dir);
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    const sum = (kind: string) => sizes.filter((size) => size.file.endsWith(kind)).reduce((total, size) => total + size.gzipped, 0);
    const lines = [
      `Navigation to ${target.replace(origin, '')} until the Balances table shows a row (${runs} runs after a warm-up, fresh context each, load average ${loadavg()[0].toFixed(1)}):`,
      `  ${sorted.map((ms) => ms.toFixed(0)).join(', ')} ms`,
      `  median ${median(sorted).toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`,
      'First load (gzip -9):',
      ...sizes.map((size) => `  ${size.file}: ${size.raw} B raw, ${size.gzipped} B gzipped (${kib(size.gzipped)})`),
      `  JavaScript ${sum('.js')} B (${kib(sum('.js'))}), CSS ${sum('.css')} B (${kib(sum('.css'))}) gzipped`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    killAllChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killAllChildren();
  process.exitCode = 1;
});
