import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import { requestLogOptions } from './request-log';

/** The request log line as LoggingModule configures pino-http, through a real HTTP server. */
describe('the request log line', () => {
  let server: Server;
  let base: string;
  const lines = new PassThrough();
  const written: Record<string, unknown>[] = [];
  lines.on('data', (chunk: Buffer) =>
    written.push(
      ...String(chunk)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    ),
  );

  beforeAll(async () => {
    const middleware = pinoHttp(requestLogOptions(pino({ level: 'info' }, lines)));
    // Fastify's genReqId names each request before its middleware runs (middie copies it to `req.id`).
    server = createServer((req, res) => {
      Object.assign(req, { id: 'req-42' });
      middleware(req, res, () => {
        req.log.info('inside the request');
        res.statusCode = req.url?.startsWith('/fail') ? 503 : 200;
        res.end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (written.length = 0));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Resolves once `count` lines were written. */
  async function linesWritten(count: number): Promise<Record<string, unknown>[]> {
    while (written.length < count) await once(lines, 'data');
    return written;
  }

  it("writes one line per request with the request's id, without its query string or headers; lines inside carry the id", async () => {
    const response = await fetch(`${base}/graphql?query=secret`, { headers: { authorization: 'Bearer sk_secret' } });
    expect(response.status).toBe(200);
    const [inside, done] = await linesWritten(2);
    expect(inside).toMatchObject({ msg: 'inside the request', requestId: 'req-42' });
    expect(done).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      msg: 'request completed',
      requestId: 'req-42',
      req: { id: 'req-42', method: 'GET', url: '/graphql' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(written)).not.toMatch(/secret/);
  });

  it('says `request errored` for a 5xx, at info', async () => {
    expect((await fetch(`${base}/fail`)).status).toBe(503);
    const [, done] = await linesWritten(2);
    expect(done).toMatchObject({ level: 30, msg: 'request errored', res: { statusCode: 503 }, err: { message: 'failed with status code 503' } });
  });

  it('writes nothing for the probes', async () => {
    await fetch(`${base}/healthz`);
    await fetch(`${base}/readyz?x=1`);
    await fetch(`${base}/graphql`);
    const logged = await linesWritten(4);
    expect(logged.filter((line) => line.req !== undefined).map((line) => (line.req as { url: string }).url)).toEqual(['/graphql']);
  });
});
