/**
 * Where a traced gateway sends its spans in the benchmark: an OTLP/HTTP receiver that reads each export
 * whole and answers 200 at once, as a collector on the same host would. Counts exports and bytes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStart, serveChild } from './lib/child-side';

let received = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    received += 1;
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' });
    res.end();
  });
});
server.once('error', (error) => failStart('The OTLP sink', error));
server.listen(0, '127.0.0.1', () => {
  serveChild((server.address() as AddressInfo).port, {
    extra: () => ({ exports: received, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
});
