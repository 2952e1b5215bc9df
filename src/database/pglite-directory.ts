import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PostgreSQL's settings for PGlite, which serves one process through one connection: PGlite's own, with
 * shared buffers sized for that (PostgreSQL's 128MB default is sized for a server with many sessions,
 * and WebAssembly memory once grown is never given back).
 */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, '-c', 'shared_buffers=8MB'];
}

/** Where a new database is created before it is moved into the data directory. */
const STAGING = '.gateway-initdb';
/** Written last: PGlite treats a directory without it as empty, so an interrupted creation is done again. */
const VERSION_FILE = 'PG_VERSION';

export function hasDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, VERSION_FILE));
}

/**
 * Creates a database in `dataDir` (which holds none) in a child process. PGlite's initdb runs a second
 * WebAssembly PostgreSQL beside the first, and the memory both grew stays with the process that ran it
 * (several hundred MiB): here it goes away with the child, and the gateway then opens the directory as
 * an existing one.
 */
export async function createPgliteDirectory(dataDir: string, startParams: readonly string[]): Promise<void> {
  const staging = join(dataDir, STAGING);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await runInitdb(staging, startParams);
  const entries = readdirSync(staging);
  if (!entries.includes(VERSION_FILE)) throw new Error(`creating the PGlite database in ${dataDir} left no ${VERSION_FILE}`);
  for (const entry of [...entries.filter((name) => name !== VERSION_FILE), VERSION_FILE]) {
    // What an interrupted move left behind is replaced.
    rmSync(join(dataDir, entry), { recursive: true, force: true });
    renameSync(join(staging, entry), join(dataDir, entry));
  }
  rmSync(staging, { recursive: true, force: true });
}

const INITDB_SCRIPT = `
const [pglite, dataDir, startParams] = process.argv.slice(1);
require(pglite).PGlite.create({ dataDir, startParams: JSON.parse(startParams) })
  .then((pg) => pg.close())
  .then(() => process.exit(0), (error) => { process.stderr.write(String(error && error.message || error)); process.exit(1); });
`;

function runInitdb(dir: string, startParams: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', INITDB_SCRIPT, require.resolve('@electric-sql/pglite'), dir, JSON.stringify(startParams)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`creating the PGlite database failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}
