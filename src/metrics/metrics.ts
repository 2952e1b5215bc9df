import { Injectable } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds elapsed since a `performance.now()` reading, as prom-client's timers report them. */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every metric the gateway exports, on one registry per app instance (two instances in one test
 * process must not share counters).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts and times one GraphQL operation: `ok`, or the error code it failed with. */
  async measure<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    let code = 'ok';
    try {
      return await run();
    } catch (error) {
      code = error instanceof GatewayError ? error.code : 'internal_error';
      throw error;
    } finally {
      // observe() rather than startTimer(): the timer's closure copies and rehashes the labels each time.
      this.operationTimer(operation).observe(secondsSince(startedAt));
      if (code === 'ok') this.operationOk(operation).inc();
      else this.operations.inc({ operation, code });
    }
  }

  // Each operation's labelled series, looked up once rather than hashed from its labels on every call.
  private readonly timers = new Map<string, ReturnType<Metrics['operationDuration']['labels']>>();
  private readonly okCounters = new Map<string, ReturnType<Metrics['operations']['labels']>>();

  private operationTimer(operation: string): ReturnType<Metrics['operationDuration']['labels']> {
    let timer = this.timers.get(operation);
    if (!timer) this.timers.set(operation, (timer = this.operationDuration.labels({ operation })));
    return timer;
  }

  private operationOk(operation: string): ReturnType<Metrics['operations']['labels']> {
    let counter = this.okCounters.get(operation);
    if (!counter) this.okCounters.set(operation, (counter = this.operations.labels({ operation, code: 'ok' })));
    return counter;
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }

  readonly operations = this.counter('credits_graphql_operations_total', 'GraphQL root fields executed, by operation and result code (ok or the error code).', [
    'operation',
    'code',
  ]);

  readonly operationDuration = this.histogram('credits_graphql_operation_duration_seconds', 'Time to resolve a GraphQL root field, by operation.', ['operation']);

  readonly requestsRefused = this.counter(
    'credits_http_requests_refused_total',
    'Requests to /graphql refused before GraphQL ran (authentication, body, shutdown), by code.',
    ['code'],
  );

  readonly upstreamRequests = this.counter('credits_upstream_requests_total', 'Calls to RevenueCat, by endpoint and outcome (HTTP status, or timeout / network_error).', [
    'endpoint',
    'outcome',
  ]);

  readonly upstreamDuration = this.histogram('credits_upstream_request_duration_seconds', 'Duration of one call to RevenueCat (one attempt), by endpoint.', ['endpoint']);

  readonly upstreamRetries = this.counter('credits_upstream_retries_total', 'Retries of failed RevenueCat calls, by endpoint and failure type.', ['endpoint', 'type']);

  readonly revenueCatRateLimitUsage = this.gauge(
    'credits_revenuecat_rate_limit_usage',
    "RevenueCat's own rate-limit usage in the current window (RevenueCat-Rate-Limit-Current-Usage), by endpoint.",
    ['endpoint'],
  );

  readonly revenueCatRateLimitLimit = this.gauge(
    'credits_revenuecat_rate_limit_limit',
    "RevenueCat's rate limit per minute (RevenueCat-Rate-Limit-Current-Limit), by endpoint.",
    ['endpoint'],
  );

  readonly idempotencyReplays = this.counter('credits_idempotency_replays_total', 'Adjustments answered from an idempotency record instead of RevenueCat.');

  readonly idempotencyConflicts = this.counter('credits_idempotency_conflicts_total', 'Idempotency keys refused: in_progress (409) or reused (422).', ['kind']);

  readonly dependencyUp = this.gauge('credits_dependency_up', 'Whether a configured dependency answers (1) or not (0), by dependency.', ['dependency']);

  readonly rateLimitFallback = this.gauge('credits_rate_limit_fallback', '1 while rate limits are counted on this instance alone because Redis does not answer, else 0.');

  readonly realtimeConnections = this.gauge('credits_realtime_connections', 'Open graphql-ws connections that passed authentication.');

  readonly realtimeSubscriptions = this.gauge('credits_realtime_subscriptions', 'Active usageChanged subscriptions on this instance.', ['scope']);

  readonly realtimeEventsPublished = this.counter('credits_realtime_events_published_total', 'usage.changed events published, one per applied adjustment.');

  readonly realtimePublishFailures = this.counter(
    'credits_realtime_publish_failures_total',
    'usage.changed events that could not be published (the adjustment itself stands).',
  );

  readonly realtimeEventsDelivered = this.counter('credits_realtime_events_delivered_total', 'usage.changed events handed to subscribers on this instance.');

  readonly realtimeEventsDropped = this.counter('credits_realtime_events_dropped_total', 'usage.changed events dropped for a subscriber that did not keep up.');

  readonly realtimeConnectionsRefused = this.counter('credits_realtime_connections_refused_total', 'graphql-ws connections closed at authentication, by close code.', [
    'code',
  ]);
}
