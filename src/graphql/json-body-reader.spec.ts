import { json } from 'body-parser';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { jsonBodyReader, type JsonBodyReader } from './json-body-reader';

const LIMIT = 1024;

/**
 * The reader against body-parser itself: the same raw requests through `jsonBodyReader` and through
 * `json({ limit, strict: true })`, and every outcome (req.body, or the error's type and status) must match.
 */
describe('jsonBodyReader', () => {
  let server: Server;
  let port: number;
  const readers: Record<string, JsonBodyReader> = {
    '/reader': jsonBodyReader(LIMIT),
    '/body-parser': json({ limit: LIMIT, strict: true }) as unknown as JsonBodyReader,
  };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
      const reader = readers[req.url ?? ''];
      reader(req, res, (error) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(error ? { type: error.type ?? null, status: error.status ?? null } : { body: req.body ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends one raw HTTP/1.1 request and answers the response body. */
  function send(path: string, headers: Record<string, string>, body: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const head = [`POST ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.end(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), body]));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text.slice(text.indexOf('\r\n\r\n') + 4));
      });
    });
  }

  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const cases: { name: string; type?: string; body: Buffer; headers?: Record<string, string>; expected: unknown }[] = [
    { name: 'an object', type: 'application/json', body: utf8('{"query":"{ me { id } }"}'), expected: { body: { query: '{ me { id } }' } } },
    { name: 'an array', type: 'application/json', body: utf8('[1,2]'), expected: { body: [1, 2] } },
    { name: 'leading whitespace', type: 'application/json', body: utf8(' \n\t{"a":1}'), expected: { body: { a: 1 } } },
    { name: 'a byte order mark', type: 'application/json', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"a":1}')]), expected: { body: { a: 1 } } },
    { name: 'only a byte order mark', type: 'application/json', body: Buffer.from([0xef, 0xbb, 0xbf]), expected: { body: {} } },
    { name: 'null', type: 'application/json', body: utf8('null'), expected: { type: 'entity.parse.failed', status: 400 } },
    { name: 'a string', type: 'application/json', body: utf8('"x"'), expected: { type: 'entity.parse.failed', status: 400 } },
    { name: 'whitespace only', type: 'application/json', body: utf8('   '), expected: { type: 'entity.parse.failed', status: 400 } },
    { name: 'broken JSON', type: 'application/json', body: utf8('{"a":'), expected: { type: 'entity.parse.failed', status: 400 } },
    { name: 'invalid UTF-8', type: 'application/json', body: Buffer.concat([utf8('{"a":"'), Buffer.from([0xff, 0xfe]), utf8('"}')]), expected: { body: { a: '\ufffd\ufffd' } } },
    { name: 'a lone surrogate escape', type: 'application/json', body: utf8('{"a":"\\ud800"}'), expected: { body: { a: '\ud800' } } },
    { name: 'charset=utf-8', type: 'application/json; charset=utf-8', body: utf8('{"a":1}'), expected: { body: { a: 1 } } },
    { name: 'upper-case type and charset', type: 'Application/JSON; Charset=UTF-8', body: utf8('{"a":1}'), expected: { body: { a: 1 } } },
    { name: 'charset=latin1 (body-parser)', type: 'application/json; charset=latin1', body: utf8('{"a":1}'), expected: { type: 'charset.unsupported', status: 415 } },
    { name: 'another type (body-parser)', type: 'text/plain', body: utf8('{"a":1}'), expected: { body: null } },
    { name: 'no type (body-parser)', body: utf8('{"a":1}'), expected: { body: null } },
    { name: 'over the limit (body-parser)', type: 'application/json', body: utf8(`{"a":"${'x'.repeat(LIMIT)}"}`), expected: { type: 'entity.too.large', status: 413 } },
    {
      name: 'an unknown Content-Encoding (body-parser)',
      type: 'application/json',
      body: utf8('{"a":1}'),
      headers: { 'Content-Encoding': 'compress' },
      expected: { type: 'encoding.unsupported', status: 415 },
    },
  ];

  it.each(cases)('reads $name as body-parser does', async ({ type, body, headers, expected }) => {
    const all = { ...(type === undefined ? {} : { 'Content-Type': type }), 'Content-Length': String(body.length), ...headers };
    const [reader, bodyParser] = await Promise.all([send('/reader', all, body), send('/body-parser', all, body)]);
    expect(JSON.parse(reader)).toEqual(expected);
    expect(reader).toBe(bodyParser);
  });

  it('reads a plain JSON body itself, and hands every other kind to body-parser', async () => {
    const bodyParser = json({ limit: LIMIT, strict: true }) as unknown as JsonBodyReader;
    const delegated: string[] = [];
    readers['/counted'] = jsonBodyReader(LIMIT, (req, res, done) => {
      delegated.push(String(req.headers['content-type']));
      bodyParser(req, res, done);
    });
    const sendTyped = (type: string) => send('/counted', { 'Content-Type': type, 'Content-Length': '7' }, utf8('{"a":1}'));
    expect(await sendTyped('application/json')).toBe('{"body":{"a":1}}');
    expect(await sendTyped('application/json;charset=utf-8')).toBe('{"body":{"a":1}}');
    expect(delegated).toEqual([]);
    expect(await sendTyped('application/json; charset=latin1')).toBe('{"type":"charset.unsupported","status":415}');
    expect(await sendTyped('application/vnd.api+json')).toBe('{"body":null}');
    expect(delegated).toEqual(['application/json; charset=latin1', 'application/vnd.api+json']);
  });

  it('reports a body cut short as request.aborted, as body-parser does', async () => {
    const outcomes = await Promise.all(
      ['/reader', '/body-parser'].map(
        (path) =>
          new Promise<unknown>((resolve) => {
            readers[`${path}-cut`] = (req, res, done) =>
              readers[path](req, res, (error) => {
                resolve(error ? { type: error.type, status: error.status } : { body: (req as { body?: unknown }).body });
                done(error);
              });
            const socket = connect(port, '127.0.0.1');
            socket.on('error', () => undefined);
            socket.write(`POST ${path}-cut HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
            setTimeout(() => socket.destroy(), 50);
          }),
      ),
    );
    expect(outcomes).toEqual([
      { type: 'request.aborted', status: 400 },
      { type: 'request.aborted', status: 400 },
    ]);
  });
});
