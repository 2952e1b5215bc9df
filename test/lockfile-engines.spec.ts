import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// semver ships no types; these two functions are all this test needs.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would need the missing types
const semver: { minVersion(range: string): { version: string } | null; satisfies(version: string, range: string): boolean } = require('semver');

const ROOT = join(__dirname, '..');

/**
 * `npm install` warns EBADENGINE for every locked package whose `engines.node` excludes the Node it runs
 * on. The oldest Node this project promises (package.json `engines`) must satisfy every one of them.
 */
describe('package-lock.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const oldest = semver.minVersion(manifest.engines.node)!.version;

  it('promises a Node 20 line', () => {
    expect(oldest).toBe('20.19.0');
  });

  it(`holds no package whose engines.node excludes Node ${oldest}`, () => {
    const excluding = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .map(([path, entry]) => ({ path, version: entry.version, node: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter((entry) => entry.node !== undefined && !semver.satisfies(oldest, entry.node))
      .map((entry) => `${entry.path}@${entry.version} wants node ${entry.node}`);
    expect(excluding).toEqual([]);
  });

  /**
   * The OpenTelemetry SDK 3 line (sdk-node 0.300 and later, and the instrumentations built on it) needs
   * Node 22; an unpinned install would pull it. Every instrumentation must also share one
   * @opentelemetry/instrumentation, or each loads its own copy and patches with it.
   */
  describe('OpenTelemetry', () => {
    const otel = Object.entries(lock.packages)
      .filter(([path]) => /node_modules\/@(opentelemetry|fastify\/otel)/.test(path))
      .map(([path, entry]) => ({ path, version: entry.version ?? '' }));
    const versionsOf = (name: string) => [...new Set(otel.filter(({ path }) => path.endsWith(`node_modules/${name}`)).map(({ version }) => version))];

    it('is the SDK 2 line: one sdk-node 0.2xx, core 2.x', () => {
      expect(versionsOf('@opentelemetry/sdk-node')).toEqual([expect.stringMatching(/^0\.2\d\d\./)]);
      for (const version of versionsOf('@opentelemetry/core')) expect(version).toMatch(/^2\./);
    });

    it('has its instrumentations share one @opentelemetry/instrumentation, of the same line as sdk-node', () => {
      const [sdk] = versionsOf('@opentelemetry/sdk-node');
      expect(versionsOf('@opentelemetry/instrumentation')).toEqual([sdk]);
    });
  });
});
