import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the embedded database costs the process that opens it: a new pglite:<dir>, then the same directory
 * reopened, each in a fresh process (PGlite does not load under jest) that opens it, journals 50
 * adjustments and reports how much its resident memory grew. `npm run bench:memory` measures the built
 * gateway itself (BENCHMARKS.md).
 */
const PROBE = `
const { randomUUID } = require('node:crypto');
const { openDatabase } = require(${JSON.stringify(join(__dirname, '..', 'src', 'database', 'database.ts'))});
const { AdjustmentRepository } = require(${JSON.stringify(join(__dirname, '..', 'src', 'journal', 'adjustment.repository.ts'))});
(async () => {
  const rssBase = process.memoryUsage().rss;
  const connection = await openDatabase({ kind: 'pglite', dir: process.argv[1] });
  const rssOpen = process.memoryUsage().rss;
  const journal = new AdjustmentRepository(connection.db);
  for (let i = 0; i < 50; i++) {
    const id = randomUUID();
    const claim = await journal.claim({ id, idempotencyKey: 'memory-' + id, fingerprint: 'fp', userId: 'user_memory', currency: 'CRD', amount: 5,
      reason: 'MEMORY-1 probe', upstreamKey: 'rc-' + id, actorName: 'admin', actorRole: 'ADMIN' }, 60000);
    if (claim.kind !== 'claimed') throw new Error('claim: ' + claim.kind);
    await journal.settle(id, claim.token, { status: 'APPLIED', balance: 5 * (i + 1), balances: [] });
  }
  const rssAfter = process.memoryUsage().rss;
  await connection.close();
  process.stdout.write(JSON.stringify({ openMib: Math.round((rssOpen - rssBase) / 1048576), afterMib: Math.round((rssAfter - rssBase) / 1048576) }));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

/**
 * What opening the database adds to the process's resident memory. It was 720 MiB for a new directory and
 * 304 reopened; now ~140 and ~170, and the built gateway with it stays under 300 (`npm run bench:memory`).
 */
const BOUND_MIB = 200;

function probe(dir: string): Promise<{ openMib: number; afterMib: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', PROBE, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`the probe exited ${code}: ${stderr}`))));
  });
}

describe('the embedded database is sized for one process', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pglite-memory-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps a new directory, and the same directory reopened, within the bound after 50 adjustments', async () => {
    const created = await probe(join(root, 'data'));
    const reopened = await probe(join(root, 'data'));
    expect({ created: created.afterMib <= BOUND_MIB, reopened: reopened.afterMib <= BOUND_MIB, created_: created, reopened_: reopened }).toEqual({
      created: true,
      reopened: true,
      created_: created,
      reopened_: reopened,
    });
  }, 240_000);
});
