import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const COMMITTED = join(ROOT, 'console', 'src', 'gql');

function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}

/** The typed client is committed: it must be what `npm run codegen` writes from schema.gql and the documents now. */
describe('npm run codegen', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'codegen-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes exactly the committed console/src/gql/', async () => {
    const cli = join(ROOT, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [cli, '--config', 'codegen.ts'], { cwd: ROOT, env: { ...process.env, CODEGEN_OUT: `${out}/` }, timeout: 60_000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`codegen failed: ${stderr}`)) : resolve(),
      ),
    );
    const generated = filesOf(out);
    expect(Object.keys(generated)).toEqual(['gql.ts', 'graphql.ts', 'index.ts']);
    // One expectation per file, so a failure names the file that drifted.
    for (const name of Object.keys(generated)) expect([name, filesOf(COMMITTED)[name]]).toEqual([name, generated[name]]);
    expect(Object.keys(filesOf(COMMITTED))).toEqual(Object.keys(generated));
  }, 60_000);
});
