import { createConnection, createServer, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** The server goes away: open connections are cut and new ones are closed as soon as they arrive. */
  cut(): void;
  /** The server stops answering: connections stay open, and what is sent waits (as over a broken link) until restore. */
  pause(): void;
  /** The server is back. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server (Redis, PostgreSQL) that a test can cut, pause and restore, so
 * an outage can be staged without stopping the server that other test runs share.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'paused' = 'open';
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    client.on('error', () => client.destroy());
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    upstream.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    if (mode === 'paused') for (const socket of pair) socket.pause();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as AddressInfo;
  const destroyAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: proxyPort,
    cut: () => {
      mode = 'cut';
      destroyAll();
    },
    pause: () => {
      mode = 'paused';
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    restore: () => {
      mode = 'open';
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    close: async () => {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
