import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const TEST_ROOT = __dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/**
 * End-to-end HTTP goes through supertest against the app's server (or a gateway process's URL), as NestJS
 * tests do; raw sockets stay for what only they can send. A fetch or a node:http client would bypass that.
 */
describe('e2e HTTP requests', () => {
  const files = sources(TEST_ROOT).map((path) => ({ path: relative(TEST_ROOT, path), text: readFileSync(path, 'utf8') }));

  it('finds the specs and helpers', () => {
    expect(files.filter((file) => file.path.endsWith('.e2e-spec.ts')).length).toBeGreaterThan(30);
    expect(files.some((file) => file.path === join('helpers', 'graphql-client.ts'))).toBe(true);
  });

  it('never use fetch or a node:http client', () => {
    const offending = files
      .filter((file) => file.path !== 'http-through-supertest.spec.ts')
      .flatMap((file) =>
        file.text
          .split('\n')
          .flatMap((line, index) =>
            /(?<![\w.])fetch\(|import\s*\{[^}]*\b(request|get)\b[^}]*\}\s*from\s*'(node:)?https?'|from\s*'undici'/.test(line) ? [`${file.path}:${index + 1}`] : [],
          ),
      );
    expect(offending).toEqual([]);
  });
});
