/**
 * The fan-out load: many idle graphql-ws subscribers (real `graphql-ws` protocol clients over `ws`), each
 * watching its own user, and adjustments for random watched users sent at a steady rate. Each event is
 * matched to the adjustment that caused it by its unique `delta`, so latency is measured per event:
 * - delivery: arrival at the subscriber minus the event's `occurredAt` (the moment the gateway had
 *   RevenueCat's answer; millisecond resolution, same machine clock);
 * - end to end: arrival minus the moment the mutation was sent (includes the upstream call).
 */
import { Client, createClient } from 'graphql-ws';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { nowMs, withTimeout } from './stats';

const SUBSCRIPTION = 'subscription ($userId: ID) { usageChanged(userId: $userId) { id userId delta balance occurredAt } }';
const MUTATION = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance } }';

interface UsageEvent {
  id: string;
  userId: string;
  delta: number;
  balance: number;
  occurredAt: string;
}

export interface EventRecord {
  userId: string;
  delta: number;
  sentAt: number;
  respondedAt?: number;
  status?: number;
  /** Whether the adjustment applied (HTTP 200 with an adjustment in the answer). */
  ok?: boolean;
  arrivedAt?: number;
  occurredAt?: number;
}

interface Subscriber {
  client: Client;
  userId: string;
}

export class SubscriberPool {
  private readonly subscribers: Subscriber[] = [];
  private readonly byDelta = new Map<number, EventRecord>();
  /** Events no adjustment of this run explains (a duplicate, or one for the wrong user). */
  unexpectedEvents = 0;
  subscriptionErrors = 0;
  closedUnexpectedly = 0;
  private closing = false;

  constructor(
    private readonly wsUrl: string,
    private readonly authorization: string,
  ) {}

  get size(): number {
    return this.subscribers.length;
  }

  /** Registers the records whose events the pool should time. */
  expect(records: EventRecord[]): void {
    for (const record of records) this.byDelta.set(record.delta, record);
  }

  /** Opens subscribers `bench_user_<from>` .. `<to - 1>`, `batchSize` connection handshakes at a time. */
  async add(userIdFor: (index: number) => string, from: number, to: number, batchSize: number, timeoutMs: number): Promise<void> {
    for (let start = from; start < to; start += batchSize) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(to, start + batchSize); i++) batch.push(this.open(userIdFor(i)));
      await withTimeout(Promise.all(batch), timeoutMs, `connecting subscribers ${start}..${Math.min(to, start + batchSize) - 1}`);
    }
  }

  private open(userId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let connected = false;
      const client = createClient({
        url: this.wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: this.authorization },
        onNonLazyError: () => undefined,
        on: {
          connected: () => {
            connected = true;
            resolve();
          },
          closed: (event) => {
            if (!connected) {
              const { code, reason } = event as { code?: number; reason?: string };
              reject(new Error(`subscriber ${userId} closed before connecting: ${code ?? '?'} ${reason ?? ''}`));
            } else if (!this.closing) {
              this.closedUnexpectedly++;
            }
          },
          error: (error) => {
            if (!connected) reject(error instanceof Error ? error : new Error(`subscriber ${userId}: connection error`));
          },
        },
      });
      this.subscribers.push({ client, userId });
      client.subscribe<{ usageChanged: UsageEvent }>(
        { query: SUBSCRIPTION, variables: { userId } },
        {
          next: (result) => {
            const arrivedAt = nowMs();
            const event = result.data?.usageChanged;
            if (!event) {
              this.subscriptionErrors++;
              return;
            }
            const record = this.byDelta.get(event.delta);
            if (!record || record.arrivedAt !== undefined || record.userId !== event.userId || event.userId !== userId) {
              this.unexpectedEvents++;
              return;
            }
            record.arrivedAt = arrivedAt;
            record.occurredAt = Date.parse(event.occurredAt);
          },
          error: () => {
            this.subscriptionErrors++;
          },
          complete: () => undefined,
        },
      );
    });
  }

  async closeAll(): Promise<void> {
    this.closing = true;
    const all = this.subscribers.splice(0);
    for (let i = 0; i < all.length; i += 500) {
      await Promise.all(all.slice(i, i + 500).map(async ({ client }) => client.dispose()));
    }
  }
}

export interface EventLoad {
  gatewayUrl: string;
  authorization: string;
  /** The users to adjust, picked at random for each event. */
  users: readonly string[];
  count: number;
  ratePerSecond: number;
  /** The first `delta` to use; each event gets the next one, so deltas are unique across the run. */
  firstDelta: number;
  maxInFlight: number;
  timeoutMs: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** One adjustment through the gateway; throws unless it applied. */
export async function adjustOnce(gatewayUrl: string, authorization: string, userId: string, amount: number, reason: string): Promise<void> {
  const { status, body } = await post(
    new URL('/graphql', gatewayUrl),
    { authorization },
    JSON.stringify({ query: MUTATION, variables: { input: { userId, amount, reason } } }),
    10_000,
  );
  if (status !== 200 || !body.includes('"adjustCredits":{')) throw new Error(`adjustCredits answered ${status}: ${body.slice(0, 300)}`);
}

/**
 * Sends `count` adjustments at a steady rate (open loop: the schedule does not wait for answers, up to
 * `maxInFlight`), each for a random user with a unique delta. Resolves when every answer is in.
 */
export async function sendEvents(load: EventLoad, onSend?: (record: EventRecord) => void): Promise<EventRecord[]> {
  const url = new URL('/graphql', load.gatewayUrl);
  const headers = { authorization: load.authorization };
  const records: EventRecord[] = [];
  const intervalMs = 1000 / load.ratePerSecond;
  const start = nowMs();
  let inFlight = 0;
  const answers: Promise<void>[] = [];
  for (let i = 0; i < load.count; i++) {
    const due = start + i * intervalMs;
    const wait = due - nowMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= load.maxInFlight) await new Promise((resolve) => setTimeout(resolve, 1));
    const userId = load.users[Math.floor(Math.random() * load.users.length)];
    const record: EventRecord = { userId, delta: load.firstDelta + i, sentAt: 0 };
    records.push(record);
    onSend?.(record);
    const body = JSON.stringify({
      query: MUTATION,
      variables: { input: { userId, amount: record.delta, reason: 'BENCH fan-out event' } },
    });
    inFlight++;
    record.sentAt = nowMs();
    answers.push(
      post(url, headers, body, load.timeoutMs)
        .then(
          (answer) => {
            record.respondedAt = nowMs();
            record.status = answer.status;
            record.ok = answer.status === 200 && answer.body.includes('"adjustCredits":{');
          },
          () => {
            record.respondedAt = nowMs();
            record.status = 0;
            record.ok = false;
          },
        )
        .finally(() => inFlight--),
    );
  }
  await Promise.all(answers);
  return records;
}

export function closeEventAgent(): void {
  agent.destroy();
}
