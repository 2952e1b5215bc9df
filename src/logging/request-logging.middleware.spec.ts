import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { RequestLoggingMiddleware } from './request-logging.middleware';

/** The logger LoggingModule hands nestjs-pino (pinoHttp.logger) is the one each request's line goes to. */
describe('RequestLoggingMiddleware', () => {
  let server: Server;
  const lines = new PassThrough();

  beforeAll(async () => {
    const middleware = new RequestLoggingMiddleware({ pinoHttp: { logger: pino({ level: 'info' }, lines) } });
    // Fastify's genReqId names each request before its middleware runs (middie copies it to `req.id`).
    server = createServer((req, res) => {
      const named = Object.assign(req, { id: 'req-42' }) as Parameters<RequestLoggingMiddleware['use']>[0];
      middleware.use(named, res, () => res.end('ok'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("writes one line per request to that logger, with the request's id and without its query string", async () => {
    const line = once(lines, 'data');
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql?query=secret`);
    expect(response.status).toBe(200);
    const logged = JSON.parse(String((await line)[0])) as Record<string, unknown>;
    expect(logged).toMatchObject({ msg: 'request completed', requestId: 'req-42', req: { id: 'req-42', method: 'GET', url: '/graphql' }, res: { statusCode: 200 } });
    expect(JSON.stringify(logged)).not.toContain('secret');
  });

  it('refuses, at start-up, parameters without a pino logger', () => {
    expect(() => new RequestLoggingMiddleware({ pinoHttp: {} })).toThrow('pinoHttp.logger');
  });
});
