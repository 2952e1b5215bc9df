import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole, type ConsoleBuild } from './helpers/console-build';

const BUDGET = 150 * 1024;

/** The built console as the gateway serves it: its first load within budget, nothing inline for the CSP to allow. */
describe('the console build', () => {
  let out: string;
  let html: string;
  let build: ConsoleBuild;
  beforeAll(async () => {
    build = await buildConsole();
    out = build.dir;
    html = readFileSync(join(out, 'index.html'), 'utf8');
  }, 120_000);
  afterAll(() => build?.remove());

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
