import WebSocket from 'ws';
import { Clock } from '../src/common/clock';
import { ManualClock, randomMinute } from './helpers/manual-clock';
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
      await waitFor(async () => {
        const result = await handshake(app);
        if ('opened' in result) result.opened.close();
        return 'opened' in result;
      }, 3000, 'a slot to free up');
    } finally {
      await Promise.all(open.map((ws) => ws.dispose()));
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
