import { join } from 'node:path';
import { CONSOLE_CSP } from '../src/console/console-static';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, type TestApp } from './helpers/test-app';

const FIXTURE = join(__dirname, 'fixtures', 'console-dist');
const ASSET = '/console/assets/index-Fx7a1b2c.js';
const IMMUTABLE = 'public, max-age=31536000, immutable';

function expectConsoleHeaders(response: { headers: Record<string, string | undefined> }): void {
  expect([response.headers['content-security-policy'], response.headers['x-content-type-options'], response.headers['referrer-policy']]).toEqual([
    CONSOLE_CSP,
    'nosniff',
    'no-referrer',
  ]);
}

describeWithPostgres('the support console at /console/', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { CONSOLE_DIR: FIXTURE } });
  });
  afterAll(() => app?.close());

  it('sends the exact Content-Security-Policy, with no inline script, eval or other origin', () => {
    expect(CONSOLE_CSP).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
  });

  it('answers index.html at /console/, checked every time, with the security headers and a request id', async () => {
    const response = await app.http.get('/console/');
    expect([response.status, response.headers['content-type'], response.headers['cache-control']]).toEqual([200, 'text/html; charset=utf-8', 'no-cache']);
    expect(response.text).toContain('<title>Support console (test fixture)</title>');
    expect(response.headers['x-request-id']).toMatch(/.+/);
    expectConsoleHeaders(response);
  });

  it('redirects /console to /console/, keeping the query', async () => {
    const response = await app.http.get('/console?x=1');
    expect([response.status, response.headers.location]).toEqual([301, '/console/?x=1']);
    expectConsoleHeaders(response);
  });

  it.each([
    '/console/customers/user_1',
    '/console/approvals',
    '/console/customers/someone%40example.com',
    '/console/customers/user.with.dots',
    '/console/bulk-jobs/b_1?tab=items',
  ])('answers index.html for the view %s', async (path) => {
    const response = await app.http.get(path);
    expect([response.status, response.headers['content-type'], response.headers['cache-control']]).toEqual([200, 'text/html; charset=utf-8', 'no-cache']);
    expect(response.text).toContain('<title>Support console (test fixture)</title>');
    expectConsoleHeaders(response);
  });

  it('serves a hashed asset for a year, immutable', async () => {
    const response = await app.http.get(ASSET);
    expect([response.status, response.headers['content-type'], response.headers['cache-control']]).toEqual([200, 'application/javascript; charset=utf-8', IMMUTABLE]);
    expect(response.text).toContain("getElementById('status')");
    expectConsoleHeaders(response);
  });

  it('answers HEAD like GET, without a body', async () => {
    const index = await app.http.head('/console/customers/user_1');
    expect([index.status, index.headers['content-type'], index.headers['cache-control'], index.text]).toEqual([200, 'text/html; charset=utf-8', 'no-cache', undefined]);
    const asset = await app.http.head(ASSET);
    expect([asset.status, asset.headers['cache-control'], Number(asset.headers['content-length']) > 0]).toEqual([200, IMMUTABLE, true]);
    expectConsoleHeaders(asset);
  });

  it.each(['/console/assets/nope.js', '/console/assets/', '/console/assets/sub/nope.css'])(
    'answers 404 not_found for the missing asset %s, never index.html',
    async (path) => {
      const response = await app.http.get(path);
      expect([response.status, response.body.errors?.[0]?.extensions?.code, response.headers['cache-control']]).toEqual([404, 'not_found', 'no-store']);
      expect(response.body.errors[0].extensions.requestId).toBe(response.headers['x-request-id']);
      expectConsoleHeaders(response);
    },
  );

  it('answers 404 not_found for a method other than GET and HEAD', async () => {
    const response = await app.http.post('/console/customers/user_1').send({});
    expect([response.status, response.body.errors?.[0]?.extensions?.code]).toEqual([404, 'not_found']);
  });

  it.each([
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/%2E%2E/%2E%2E/package.json',
    '/console/assets/..%2f..%2fpackage.json',
    '/console/..%2fpackage.json',
    '/console/..%5cpackage.json',
    '/console/./index.html/../../package.json',
    '/console/%00',
  ])('never serves a file outside the console for %s', async (path) => {
    // supertest sends the path as written (fetch would resolve `..` first).
    const response = await app.http.get(path);
    expect([path, response.status]).toEqual([path, 404]);
    expect(response.text).not.toMatch(/credits-admin-gateway|<title>/);
    expect(JSON.parse(response.text).errors[0].extensions.code).toBe('not_found');
  });

  it('leaves other paths as they were: a 404 outside /console has no console headers', async () => {
    const response = await app.http.get('/consoles');
    expect(response.status).toBe(404);
    expect(response.headers['content-security-policy']).toBeUndefined();
    const graphql = await app.http.post('/graphql').send({ query: '{ __typename }' });
    expect([graphql.status, graphql.body.errors?.[0]?.extensions?.code, graphql.headers['content-security-policy']]).toEqual([401, 'missing_bearer', undefined]);
  });
});

describeWithPostgres('the support console when it is not built', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { CONSOLE_DIR: join(FIXTURE, 'missing') } });
  });
  afterAll(() => app?.close());

  it.each(['/console/', '/console/customers/user_1', ASSET])('answers 503 console_not_built at %s, and the gateway runs', async (path) => {
    const response = await app.http.get(path);
    expect([response.status, response.body.errors?.[0]?.extensions?.code, response.body.errors?.[0]?.message]).toEqual([
      503,
      'console_not_built',
      'console_not_built: the support console has not been built on this server; run npm run build (or set CONSOLE_DIR)',
    ]);
    expectConsoleHeaders(response);
    const health = await app.http.get('/healthz');
    expect(health.status).toBe(200);
  });
});
