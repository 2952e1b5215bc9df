/** Every figure of one run, as the report and the --json file see them. */
import type { HttpFigures } from './http-load';
import type { PlanSummary } from './history';
import type { MachineInfo } from './machine';
import type { BenchOptions } from './options';

/** A figure that could not be taken, with the reason (e.g. "skipped: no Redis"). */
export interface Skipped {
  skipped: string;
}

export type Maybe<T> = T | Skipped;

export function isSkipped<T>(value: Maybe<T> | undefined): value is Skipped {
  return typeof value === 'object' && value !== null && 'skipped' in value;
}

export interface MemoryFigures {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  gcForced: boolean;
}

export interface FanoutLevel {
  /** 0: events for users nobody watches, the cost of an adjustment without any delivery. */
  subscribers: number;
  connectSeconds: number;
  connections?: number;
  listeners?: number;
  events: number;
  failedMutations: number;
  delivered: number;
  lost: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  deliveryMaxMs: number;
  endToEndP50Ms: number;
  endToEndP99Ms: number;
  mutationP50Ms: number;
  mutationP99Ms: number;
  eventPhaseSeconds: number;
  cpuPerEventUs: number;
  idleCpuUsPerSecond: number;
  cpuPerEventNetUs: number;
  memory: MemoryFigures;
  rssPerSubscriberBytes: number;
  heapPerSubscriberBytes: number;
}

export interface FanoutResults {
  baseline: MemoryFigures;
  levels: FanoutLevel[];
  unexpectedEvents: number;
  subscriptionErrors: number;
  closedUnexpectedly: number;
  loadGeneratorRssBytes: number;
}

export interface BenchResults {
  machine: MachineInfo;
  options: Omit<BenchOptions, 'only'> & { only: string[] };
  runSeconds: number;
  /** Another process loading the machine during the run skews every figure; this shows it. */
  loadAverageAtEnd: number[];
  redis: { url: string; available: boolean; note: string };
  postgres: { available: boolean; note: string };
  balances?: Maybe<{
    direct: HttpFigures;
    /** The median round of each path (by req/s); the same figures as `rounds` when there was one. */
    plain: HttpFigures;
    /** Apollo's own startStandaloneServer (bare node:http, no Express), the same field and call. */
    plainStandalone: HttpFigures;
    /** A minimal NestJS + @nestjs/apollo app doing what the plain server does: the framework's floor. */
    minimalNest: HttpFigures;
    /** The same app on Nest's Fastify adapter: what the HTTP platform costs. */
    minimalNestFastify: HttpFigures;
    service: HttpFigures;
    serviceRedis: Maybe<HttpFigures>;
    /** Every round, in order: the paths measured in turn. */
    rounds: BalancesRound[];
    /** The service as of another commit (--baseline), measured in the same rounds. */
    baseline?: { ref: string; commit: string; figures: HttpFigures };
  }>;
  adjust?: Maybe<{
    /** One instance, the journal in embedded PGlite (pglite:memory). */
    pglite: HttpFigures;
    /** One instance, the journal in PostgreSQL (a schema of its own). */
    postgres: Maybe<HttpFigures>;
    /** Redis for counters and the realtime feed, the journal in PostgreSQL (a schema of its own). */
    redis: Maybe<HttpFigures>;
  }>;
  history?: Maybe<HistoryResults>;
  fanout?: Maybe<FanoutResults>;
  tracing?: Maybe<TracingResults>;
  failures: string[];
}

export interface BalancesRound {
  plain: HttpFigures;
  plainStandalone: HttpFigures;
  minimalNest: HttpFigures;
  minimalNestFastify: HttpFigures;
  service: HttpFigures;
  baseline?: HttpFigures;
}

export interface HistoryFilterFigures {
  /** e.g. "{userId}" */
  label: string;
  /** The GraphQL filter as sent. */
  filter: Record<string, unknown>;
  http: HttpFigures;
  /** Nodes on the first page (a sanity check: a filter that matches nothing measures nothing). */
  pageSize: number;
  plan: PlanSummary;
}

export interface HistoryResults {
  rows: number;
  users: number;
  operators: number;
  days: number;
  seedSeconds: number;
  tableBytes: number;
  indexBytes: number;
  filters: HistoryFilterFigures[];
}

/** `balances` through three gateways alike but for tracing, measured in turn (medians of the rounds). */
export interface TracingResults {
  off: HttpFigures;
  /** OTLP http/protobuf to a local sink, the default sampler (parentbased_always_on). */
  on: HttpFigures;
  /** The same with OTEL_TRACES_SAMPLER=traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1. */
  ratio: HttpFigures;
  rounds: Array<{ off: HttpFigures; on: HttpFigures; ratio: HttpFigures }>;
  /** What the sink received from both traced gateways over the whole run. */
  sink: { exports: number; bytes: number };
}
