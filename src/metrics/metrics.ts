import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * Every metric the gateway exports, on one registry per app instance (two instances in one test
 * process must not share counters).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

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
