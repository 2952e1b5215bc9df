import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(__dirname, '..');
const BUDGET = 150 * 1024;

/** The built console as the gateway serves it: its first load within budget, nothing inline for the CSP to allow. */
describe('the console build', () => {
  let out: string;
  let html: string;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'console-build-'));
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'console/vite.config.mts', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'],
        // jest sets NODE_ENV=test, which Vite would carry into the bundle.
        { cwd: ROOT, timeout: 120_000, env: { ...process.env, NODE_ENV: 'production' } },
        (error, _stdout, stderr) => (error ? reject(new Error(`vite build failed: ${stderr}`)) : resolve()),
      ),
    );
    html = readFileSync(join(out, 'index.html'), 'utf8');
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it(`loads at most ${BUDGET / 1024} KiB of JavaScript, gzipped, on the first load`, () => {
    const scripts = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, path) => sum + gzipSync(readFileSync(join(out, path)), { level: 9 }).length, 0);
    process.stdout.write(`console first-load JavaScript: ${scripts.join(', ')}: ${gzipped} bytes gzipped\n`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET);
  });

  it('has no inline script or style, and takes every asset from /console/ (hashed)', () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/<style/);
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(urls.filter((url) => !url.startsWith('/console/'))).toEqual([]);
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.filter((name) => !/-[\w-]{8}\.(js|css)$/.test(name))).toEqual([]);
  });
});
