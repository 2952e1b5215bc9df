import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

export interface TestWsClient {
  client: Client;
  /** Resolves when the socket closes, with the server's code and reason. */
  closed: Promise<Closed>;
  /** Resolves when the server acknowledged the connection; rejects if it closed (or was refused) first. */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/** A real graphql-ws client with retries off, as nestjs/graphql's own subscription tests use. */
export function connectWs(httpUrl: string, authorization?: string): TestWsClient {
  let onClosed!: (closed: Closed) => void;
  let onConnected!: () => void;
  let onRefused!: (error: Error) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onRefused = reject;
  });
  // Tests that expect a refusal await `closed` only; this keeps their unawaited `connected` quiet.
  connected.catch(() => undefined);
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? undefined : { authorization },
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
        onRefused(new Error(`the connection closed before it was acknowledged: ${code} ${String(reason)}`));
      },
      error: (error) => onRefused(new Error(`the connection failed before it was acknowledged: ${String((error as Error)?.message ?? error)}`)),
    },
    onNonLazyError: () => undefined,
  });
  return {
    client,
    closed,
    connected,
    dispose: async () => {
      await client.dispose();
    },
  };
}

export interface TestSubscription<T> {
  events: T[];
  errors: unknown[];
  /** The next event not yet taken, waiting for it if need be. */
  next(timeoutMs?: number): Promise<T>;
  /** Resolves with the error the server ended the subscription with. */
  failed: Promise<unknown>;
  unsubscribe(): void;
}

export function subscribe<T = Record<string, any>>(ws: TestWsClient, query: string, variables?: Record<string, unknown>): TestSubscription<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  let taken = 0;
  let wake: (() => void) | undefined;
  let onFailed!: (error: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (onFailed = resolve));
  const unsubscribe = ws.client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) {
          errors.push(...result.errors);
          onFailed(result.errors);
        }
        if (result.data) events.push(result.data);
        wake?.();
      },
      error: (error) => {
        errors.push(error);
        onFailed(error);
        wake?.();
      },
      complete: () => undefined,
    },
  );
  return {
    events,
    errors,
    failed,
    unsubscribe,
    next: async (timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (events.length <= taken) {
        if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events[taken++];
    },
  };
}

/** Polls until `condition` holds; for state that settles asynchronously (subscriptions, Redis). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
