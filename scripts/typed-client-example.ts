/**
 * An internal tool on the typed client generated from schema.gql (`npm run codegen`):
 *
 *   GATEWAY_URL=http://127.0.0.1:3000 TOKEN=<operator token> npm run typed-client -- <userId> <amount> <reason> [idempotencyKey]
 *
 * Watches the customer's usageChanged, grants (or deducts) with an idempotency key, sends the same
 * request again to show that it is applied once, then exits after the first live event.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { graphql } from '../console/src/gql';
import type { TypedDocumentString } from '../console/src/gql/graphql';

const AdjustCredits = graphql(`
  mutation ToolAdjustCredits($input: AdjustCreditsInput!) {
    adjustCredits(input: $input) {
      id
      balance
      replayed
      idempotencyKey
    }
  }
`);

const UsageChanged = graphql(`
  subscription ToolUsageChanged($userId: ID!) {
    usageChanged(userId: $userId) {
      id
      currency
      delta
      balance
      occurredAt
    }
  }
`);

const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000';
const token = process.env.TOKEN ?? process.env.ADMIN_SECRET ?? '';
const [userId, amountText, reason, key = `tool-${randomUUID()}`] = process.argv.slice(2);

/** One query or mutation: the document's types give the variables and the answer. */
async function execute<Result, Variables>(document: TypedDocumentString<Result, Variables>, variables: Variables): Promise<Result> {
  const response = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: Result; errors?: Array<{ message: string; extensions?: { code?: string; requestId?: string } }> };
  const error = body.errors?.[0];
  if (error) throw new Error(`${error.extensions?.code}: ${error.message} (request id ${error.extensions?.requestId ?? response.headers.get('x-request-id')})`);
  return body.data as Result;
}

/** One subscription over graphql-ws, typed the same way. */
function subscribe<Result, Variables>(
  client: Client,
  document: TypedDocumentString<Result, Variables>,
  variables: Variables,
  sink: { next: (data: Result) => void; error: (error: unknown) => void },
): () => void {
  return client.subscribe<Result>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    { next: ({ data, errors }) => (errors ? sink.error(errors[0]) : data && sink.next(data)), error: sink.error, complete: () => undefined },
  );
}

async function main(): Promise<void> {
  if (!token || !userId || !amountText || !reason) {
    process.stderr.write('usage: GATEWAY_URL=... TOKEN=... npm run typed-client -- <userId> <amount> <reason> [idempotencyKey]\n');
    process.exit(2);
  }
  let connected: () => void = () => undefined;
  const isConnected = new Promise<void>((resolve) => (connected = resolve));
  const ws = createClient({
    url: `${gateway.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { connected: () => connected() },
  });
  const firstEvent = new Promise<void>((resolve, reject) => {
    subscribe(
      ws,
      UsageChanged,
      { userId },
      {
        next: (data) => {
          process.stdout.write(`event ${JSON.stringify(data.usageChanged)}\n`);
          resolve();
        },
        error: reject,
      },
    );
  });

  await isConnected;

  const input = { userId, amount: Number(amountText), reason, idempotencyKey: key };
  const first = await execute(AdjustCredits, { input });
  process.stdout.write(`applied ${JSON.stringify(first.adjustCredits)}\n`);
  // The same key again (a retry after a timeout, say): the stored answer, nothing applied twice.
  const again = await execute(AdjustCredits, { input });
  process.stdout.write(`again ${JSON.stringify(again.adjustCredits)}\n`);

  await firstEvent;
  await ws.dispose();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
