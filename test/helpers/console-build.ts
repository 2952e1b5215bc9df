import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A console built from today's source into a folder of the caller's own, so no test drives a stale console/dist. */
export interface ConsoleBuild {
  dir: string;
  remove(): void;
}

export async function buildConsole(): Promise<ConsoleBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'console-build-'));
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'console/vite.config.mts', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
      // jest sets NODE_ENV=test, which Vite would carry into the bundle.
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, NODE_ENV: 'production' } },
      (error, _stdout, stderr) => (error ? reject(new Error(`vite build failed: ${stderr}`)) : resolve()),
    ),
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
