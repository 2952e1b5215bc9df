/**
 * An example usageChanged subscriber, as an app or an internal tool would write one:
 *
 *   GATEWAY_URL=http://127.0.0.1:3000 TOKEN=<admin secret or Clerk session token> \
 *     npm run subscribe -- [userId]
 *
 * Prints every usage.changed envelope as a JSON line. Reconnects (with back-off and jitter) when the
 * server goes away (1001, e.g. a deploy) or the network drops; stops on close codes a retry would only
 * repeat (4401: get a fresh token first; 4400, 4403, 4406, 4409).
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409]);

const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const token = process.env.TOKEN ?? process.env.ADMIN_SECRET;
const userId = process.argv[2];
if (!token) {
  process.stderr.write('Set TOKEN (or ADMIN_SECRET): the admin secret, or a Clerk session token for your own user.\n');
  process.exit(2);
}

const client = createClient({
  url: `${gateway.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: Infinity,
  shouldRetry: (event) => {
    const code = (event as { code?: number }).code;
    return code === undefined || !FATAL_CLOSE_CODES.has(code);
  },
  on: {
    connected: () => process.stderr.write(`connected to ${gateway}, watching ${userId ?? 'every user (admin) / your own user'}\n`),
    closed: (event) => {
      const { code, reason } = event as { code: number; reason: string };
      process.stderr.write(`closed: ${code} ${String(reason)}\n`);
      if (FATAL_CLOSE_CODES.has(code)) process.exit(1);
    },
  },
});

client.subscribe(
  {
    query: `subscription ($userId: ID) {
      usageChanged(userId: $userId) { id type silent userId currency delta balance occurredAt }
    }`,
    variables: { userId },
  },
  {
    next: (result) => {
      if (result.errors) process.stderr.write(`error: ${JSON.stringify(result.errors)}\n`);
      if (result.data) process.stdout.write(`${JSON.stringify(result.data.usageChanged)}\n`);
    },
    error: (error) => {
      process.stderr.write(`subscription failed: ${JSON.stringify(error)}\n`);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);

process.once('SIGINT', () => void client.dispose());
