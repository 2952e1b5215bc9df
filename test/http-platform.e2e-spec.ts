import request from 'supertest';
import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { FastifyRequest } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../src/app.module';
import { APP_OPTIONS, configureApp, httpAdapter } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { createTestSchema, TEST_DATABASE_URL } from './helpers/postgres';
import { ADMIN_SECRET } from './helpers/test-app';

/** A route as a feature would add one: a Nest controller, nothing else configured for it. */
@Controller('probe')
class ProbeController {
  @Post()
  @HttpCode(200)
  probe(@Body() body: unknown, @Req() request: FastifyRequest): unknown {
    return { body, ip: request.ip, id: request.id };
  }
}

/**
 * The HTTP platform as any route sees it, not only /graphql: Fastify parses the body within its limit,
 * every answer carries the request id, refusals come from the catalogue, and TRUST_PROXY is Fastify's.
 */
describe('the HTTP platform for a route added to the app', () => {
  let app: NestFastifyApplication;
  let dropSchema: () => Promise<void>;

  async function start(env: Record<string, string> = {}): Promise<void> {
    const schema = await createTestSchema('http_platform');
    dropSchema = () => schema.drop();
    const config = loadConfig({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: 'sk_test_unused',
      REVENUECAT_PROJECT_ID: 'proj_unused',
      REVENUECAT_API_URL: 'http://127.0.0.1:9/v2',
      LOG_LEVEL: 'silent',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema.name,
      ...env,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config)], controllers: [ProbeController] }).compile();
    app = configureApp(moduleRef.createNestApplication<NestFastifyApplication>(httpAdapter(config), { ...APP_OPTIONS, logger: false }));
    await app.listen(0, '127.0.0.1');
  }

  afterEach(async () => {
    await app?.close();
    await dropSchema?.();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    request(app.getHttpServer())
      .post('/probe')
      .set({ 'content-type': 'application/json', ...headers })
      .send(body);

  it("gets Fastify's parsed JSON body, and the request id in x-request-id", async () => {
    await start();
    const response = await post(JSON.stringify({ a: [1, 'two'] }));
    const payload = response.body as { body: unknown; id: string };
    expect([response.status, payload.body]).toEqual([200, { a: [1, 'two'] }]);
    expect(payload.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-request-id']).toBe(payload.id);
  });

  it('keeps a sane incoming x-request-id and replaces one that is not a token', async () => {
    await start();
    const kept = await post('{}', { 'x-request-id': 'ticket-4711.a' });
    expect([kept.headers['x-request-id'], (kept.body as { id: string }).id]).toEqual(['ticket-4711.a', 'ticket-4711.a']);
    const replaced = await post('{}', { 'x-request-id': 'a b<script>' });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['a body over 64 KiB', JSON.stringify({ padding: 'x'.repeat(70_000) }), {}, 413, 'payload_too_large'],
    ['malformed JSON', '{"a":', {}, 400, 'bad_request'],
    ['a form body', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }, 400, 'bad_request'],
  ])('refuses %s from the catalogue with the request id', async (_name, body, headers, status, code) => {
    await start();
    const response = await post(body, headers);
    const payload = JSON.parse(response.text) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect([response.status, payload.errors[0].extensions]).toEqual([status, { code, status, requestId: response.headers['x-request-id'] }]);
  });

  it.each(['/graphql%', '/console/%zz', '/probe%C0'])(
    "refuses %s, a URL Fastify's router cannot decode, from the catalogue with the request id and without echoing it",
    async (path) => {
      await start();
      const response = await request(app.getHttpServer()).get(path);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect([response.status, JSON.parse(response.text)]).toEqual([
        400,
        {
          errors: [
            { message: 'bad_request: the URL is not valid percent-encoding', extensions: { code: 'bad_request', status: 400, requestId: response.headers['x-request-id'] } },
          ],
        },
      ]);
    },
  );

  it('refuses a /graphql body declared in a charset other than UTF-8, instead of reading it garbled', async () => {
    await start();
    const send = (contentType: string) =>
      request(app.getHttpServer())
        .post('/graphql')
        .set({ authorization: `Bearer ${ADMIN_SECRET}`, 'content-type': contentType })
        .send('{"query":"{ me { name } }"}');
    const refused = await send('application/json; charset=latin1');
    expect([refused.status, JSON.parse(refused.text).errors[0].extensions]).toEqual([400, { code: 'bad_request', status: 400, requestId: refused.headers['x-request-id'] }]);
    for (const accepted of ['application/json; charset=utf-8', 'application/json; charset="UTF8"', 'application/json']) {
      const answer = await send(accepted);
      expect([accepted, answer.status, JSON.parse(answer.text)]).toEqual([accepted, 200, { data: { me: { name: 'admin' } } }]);
    }
  });

  it('reads the client address from X-Forwarded-For only behind a trusted proxy (TRUST_PROXY)', async () => {
    await start();
    expect(((await post('{}', { 'x-forwarded-for': '203.0.113.7' })).body as { ip: string }).ip).toBe('127.0.0.1');
    await app.close();
    await dropSchema();
    await start({ TRUST_PROXY: 'loopback' });
    expect(((await post('{}', { 'x-forwarded-for': '203.0.113.7' })).body as { ip: string }).ip).toBe('203.0.113.7');
  });
});
