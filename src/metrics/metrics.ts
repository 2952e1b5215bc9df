import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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

  readonly operations = new Counter({
    name: 'credits_graphql_operations_total',
    help: 'GraphQL root fields executed, by operation and result code (ok or the error code).',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });

  readonly operationDuration = new Histogram({
    name: 'credits_graphql_operation_duration_seconds',
    help: 'Time to resolve a GraphQL root field, by operation.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly requestsRefused = new Counter({
    name: 'credits_http_requests_refused_total',
    help: 'Requests to /graphql refused before GraphQL ran (authentication, body, shutdown), by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly upstreamRequests = new Counter({
    name: 'credits_upstream_requests_total',
    help: 'Calls to RevenueCat, by endpoint and outcome (HTTP status, or timeout / network_error).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'credits_upstream_request_duration_seconds',
    help: 'Duration of one call to RevenueCat (one attempt), by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamRetries = new Counter({
    name: 'credits_upstream_retries_total',
    help: 'Retries of failed RevenueCat calls, by endpoint and failure type.',
    labelNames: ['endpoint', 'type'] as const,
    registers: [this.registry],
  });

  readonly revenueCatRateLimitUsage = new Gauge({
    name: 'credits_revenuecat_rate_limit_usage',
    help: "RevenueCat's own rate-limit usage in the current window (RevenueCat-Rate-Limit-Current-Usage), by endpoint.",
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly revenueCatRateLimitLimit = new Gauge({
    name: 'credits_revenuecat_rate_limit_limit',
    help: "RevenueCat's rate limit per minute (RevenueCat-Rate-Limit-Current-Limit), by endpoint.",
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly idempotencyReplays = new Counter({
    name: 'credits_idempotency_replays_total',
    help: 'Adjustments answered from an idempotency record instead of RevenueCat.',
    registers: [this.registry],
  });

  readonly idempotencyConflicts = new Counter({
    name: 'credits_idempotency_conflicts_total',
    help: 'Idempotency keys refused: in_progress (409) or reused (422).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly realtimeConnections = new Gauge({
    name: 'credits_realtime_connections',
    help: 'Open graphql-ws connections that passed authentication.',
    registers: [this.registry],
  });

  readonly realtimeSubscriptions = new Gauge({
    name: 'credits_realtime_subscriptions',
    help: 'Active usageChanged subscriptions on this instance.',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly realtimeEventsPublished = new Counter({
    name: 'credits_realtime_events_published_total',
    help: 'usage.changed events published, one per applied adjustment.',
    registers: [this.registry],
  });

  readonly realtimePublishFailures = new Counter({
    name: 'credits_realtime_publish_failures_total',
    help: 'usage.changed events that could not be published (the adjustment itself stands).',
    registers: [this.registry],
  });

  readonly realtimeEventsDelivered = new Counter({
    name: 'credits_realtime_events_delivered_total',
    help: 'usage.changed events handed to subscribers on this instance.',
    registers: [this.registry],
  });

  readonly realtimeEventsDropped = new Counter({
    name: 'credits_realtime_events_dropped_total',
    help: 'usage.changed events dropped for a subscriber that did not keep up.',
    registers: [this.registry],
  });

  readonly realtimeConnectionsRefused = new Counter({
    name: 'credits_realtime_connections_refused_total',
    help: 'graphql-ws connections closed at authentication, by close code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
}
