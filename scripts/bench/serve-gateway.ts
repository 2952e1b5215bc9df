/**
 * The service under test, in its own process: exactly what `node dist/main.js` builds (tracing when the
 * OTEL_* variables ask, createApp from src/bootstrap.ts, configuration from the environment through loadConfig), listening on a free loopback
 * port. Reports CPU, memory (after a forced GC when run with --expose-gc), open graphql-ws connections and
 * registered subscription listeners over IPC.
 */
// First, as in main.ts: tracing (when OTEL_* variables ask) patches what the app loads.
import '../../src/tracing/start';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { failStart, serveChild } from './lib/child-side';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;

  // Looked up by name and read defensively: the benchmark must not break when the realtime internals move.
  const realtimeFigures = (): Record<string, number> => {
    const figures: Record<string, number> = {};
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- inside the try, so a moved module is skipped
      const { SubscriberRegistry } = require('../../src/realtime/subscriber-registry') as typeof import('../../src/realtime/subscriber-registry');
      const size = app.get(SubscriberRegistry, { strict: false }).size;
      figures.listeners = size.listeners;
      figures.watchedUsers = size.users;
    } catch {
      // not available in this version of the service
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- inside the try, so a moved module is skipped
      const { RealtimeServer } = require('../../src/realtime/realtime.server') as typeof import('../../src/realtime/realtime.server');
      figures.connections = app.get(RealtimeServer, { strict: false }).connectionCount;
    } catch {
      // idem
    }
    return figures;
  };

  serveChild(port, { extra: realtimeFigures, close: () => app.close() });
}

main().catch((error: unknown) => failStart('The gateway', error));
