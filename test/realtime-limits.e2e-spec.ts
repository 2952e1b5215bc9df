import { getStorageToken, ThrottlerStorage } from '@nestjs/throttler';
import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Clock } from '../src/common/clock';
import { ManualClock, randomMinute } from '../src/common/testing/manual-clock';
import { RealtimeServer } from '../src/realtime/realtime.server';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, TestWsClient, waitFor } from './helpers/ws-client';

/** A bare WebSocket handshake: resolves 'open', or the HTTP status and Retry-After it was refused with. */
function handshake(app: TestApp): Promise<{ opened: WebSocket } | { status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    ws.once('open', () => resolve({ opened: ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] as string, body }));
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('graphql-ws connection bounds', () => {
  it('refuses a client more open connections than WS_MAX_CONNECTIONS_PER_CLIENT, with 429', async () => {
    const app = await startApp({ env: { WS_MAX_CONNECTIONS_PER_CLIENT: '3' } });
    const open: TestWsClient[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
        open.push(ws);
        await ws.connected;
      }
      const refused = await handshake(app);
      expect(refused).toMatchObject({ status: 429, retryAfter: '5' });
      expect(JSON.parse((refused as { body: string }).body).errors[0].extensions).toEqual({ code: 'rate_limited', status: 429, retryAfterSeconds: 5 });
      await open.pop()!.dispose();
      await waitFor(
        async () => {
          const result = await handshake(app);
          if ('opened' in result) result.opened.close();
          return 'opened' in result;
        },
        3000,
        'a slot to free up',
      );
    } finally {
      await Promise.all(open.map((ws) => ws.dispose()));
      await app.close();
    }
  });

  it('holds the open-connection cap against a burst of parallel upgrades, and frees every slot after', async () => {
    // The attempt counter answers only once the whole burst has reached the server, as a slow Redis
    // would: every upgrade is checked against the cap while the others are still waiting on it.
    let seen = 0;
    let expected = 0;
    let open!: () => void;
    let gate = new Promise<void>((resolve) => (open = resolve));
    const slowCounter: Pick<ThrottlerStorage, 'increment'> = {
      increment: async () => {
        await gate;
        return { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 };
      },
    };
    const app = await startApp({
      env: { WS_MAX_CONNECTIONS_PER_CLIENT: '10' },
      override: (builder) => builder.overrideProvider(getStorageToken()).useValue(slowCounter),
    });
    app.app.getHttpServer().on('upgrade', () => {
      if (++seen === expected) open();
    });
    const server = app.app.get(RealtimeServer);
    const burst = async (size: number) => {
      [seen, expected] = [0, size];
      gate = new Promise<void>((resolve) => (open = resolve));
      const results = await Promise.all(Array.from({ length: size }, () => handshake(app)));
      const opened = results.flatMap((result) => ('opened' in result ? [result.opened] : []));
      const refused = results.filter((result) => 'status' in result).map((result) => (result as { status: number }).status);
      return { opened, refused };
    };
    try {
      const first = await burst(120);
      expect(first.opened.length).toBe(10);
      expect(first.refused).toEqual(Array(110).fill(429));
      expect(server.connectionCount).toBe(10);
      for (const ws of first.opened) ws.close();
      await waitFor(() => server.connectionCount === 0 && server.clientSlotsInUse === 0, 3000, 'the burst to close');
      const second = await burst(10);
      expect(second.opened.length).toBe(10);
      expect(second.refused).toEqual([]);
      for (const ws of second.opened) ws.close();
    } finally {
      await app.close();
    }
  });

  it('frees the slot of an upgrade that ends without a socket: rate-limited, aborted by ws, or dropped while waiting', async () => {
    let blocked = false;
    let open!: () => void;
    let gate: Promise<void> = Promise.resolve();
    const counter: Pick<ThrottlerStorage, 'increment'> = {
      increment: async () => {
        await gate;
        return { totalHits: 1, timeToExpire: 60, isBlocked: blocked, timeToBlockExpire: blocked ? 60 : 0 };
      },
    };
    const app = await startApp({
      env: { WS_MAX_CONNECTIONS_PER_CLIENT: '3' },
      override: (builder) => builder.overrideProvider(getStorageToken()).useValue(counter),
    });
    const server = app.app.get(RealtimeServer);
    let seen = 0;
    app.app.getHttpServer().on('upgrade', () => seen++);
    const rawUpgrade = (version: string) => {
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: ${version}\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          `Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
      );
      return socket;
    };
    const answer = (socket: Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text.split('\r\n')[0]));
      });
    try {
      blocked = true;
      for (let i = 0; i < 3; i++) expect(await handshake(app)).toMatchObject({ status: 429 });
      blocked = false;
      await waitFor(() => server.clientSlotsInUse === 0, 2000, 'rate-limited upgrades to free their slots');

      const aborted = await Promise.all([0, 1, 2].map(() => answer(rawUpgrade('12'))));
      expect(aborted).toEqual(Array(3).fill('HTTP/1.1 400 Bad Request'));
      await waitFor(() => server.clientSlotsInUse === 0, 2000, 'aborted upgrades to free their slots');

      gate = new Promise<void>((resolve) => (open = resolve));
      const waiting = [0, 1, 2].map(() => rawUpgrade('13'));
      await waitFor(() => seen === 9, 2000, 'the waiting upgrades to arrive');
      expect(server.clientSlotsInUse).toBe(3);
      for (const socket of waiting) socket.destroy();
      // The server notices a dropped upgrade socket when it next touches it (it is not read meanwhile).
      open();
      await waitFor(() => server.clientSlotsInUse === 0, 2000, 'dropped upgrades to free their slots');

      const results = await Promise.all([0, 1, 2].map(() => handshake(app)));
      expect(results.map((result) => 'opened' in result)).toEqual([true, true, true]);
      for (const result of results) if ('opened' in result) result.opened.close();
      await waitFor(() => server.clientSlotsInUse === 0, 2000, 'closed connections to free their slots');
    } finally {
      await app.close();
    }
  });

  it('closes an upgrade whose handshake throws, frees its slot, and leaves no unhandled rejection', async () => {
    const app = await startApp({ env: { WS_MAX_CONNECTIONS_PER_CLIENT: '1' } });
    const server = app.app.get(RealtimeServer);
    const wss = (server as unknown as { wss: WebSocketServer }).wss;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    jest.spyOn(wss, 'handleUpgrade').mockImplementationOnce(() => {
      throw new Error('handshake failed');
    });
    try {
      const first = await Promise.race([handshake(app).catch((error: Error) => error.message), new Promise((resolve) => setTimeout(resolve, 2000, 'no answer'))]);
      expect(first).toBe('socket hang up');
      await waitFor(() => server.clientSlotsInUse === 0, 2000, 'the failed upgrade to free its slot');
      const second = await handshake(app);
      expect('opened' in second).toBe(true);
      if ('opened' in second) second.opened.close();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await app.close();
    }
  });

  it('refuses more connection attempts a minute than WS_CONNECT_ATTEMPTS_PER_MINUTE, until the next minute', async () => {
    const clock = new ManualClock(randomMinute() + 50_000);
    const app = await startApp({ env: { WS_CONNECT_ATTEMPTS_PER_MINUTE: '4' }, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
    try {
      for (let i = 0; i < 4; i++) {
        const result = await handshake(app);
        expect('opened' in result).toBe(true);
        if ('opened' in result) result.opened.close();
      }
      expect(await handshake(app)).toMatchObject({ status: 429, retryAfter: '10' });
      clock.advance(10_000);
      const again = await handshake(app);
      expect('opened' in again).toBe(true);
      if ('opened' in again) again.opened.close();
    } finally {
      await app.close();
    }
  });

  it('terminates a connection that stops answering pings, and keeps one that answers', async () => {
    const app = await startApp({ env: { WS_KEEPALIVE_SECONDS: '1' } });
    const open = (autoPong: boolean) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${app.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { autoPong });
        ws.once('open', () => {
          ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_SECRET}` } }));
          resolve(ws);
        });
        ws.once('error', reject);
      });
    try {
      const silent = await open(false);
      const healthy = await open(true);
      const closed = await new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
      expect(closed).toBe(1006);
      expect(healthy.readyState).toBe(WebSocket.OPEN);
      healthy.close();
    } finally {
      await app.close();
    }
  });

  it('drops a connection that never sends connection_init (4408 after 5 s)', async () => {
    const app = await startApp();
    try {
      const result = await handshake(app);
      if (!('opened' in result)) throw new Error('not opened');
      const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
        result.opened.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      expect(closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    } finally {
      await app.close();
    }
  }, 15_000);
});
