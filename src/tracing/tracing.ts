import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { TraceFlags } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { REQUEST_TRACE } from './index';
import { PrivateValuesFilter } from './private-values';
import { GraphQLOnlyInRequests, samplerFromEnv } from './sampler';

export const DEFAULT_SERVICE_NAME = 'credits-admin-gateway';

/** Answered many times a minute by probes and scrapers: a trace each would bury the operations. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export type TracingEnv = Readonly<Record<string, string | undefined>>;

export class TracingConfigError extends Error {}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** The traces' OTLP protocol: the signal's own variable first, then the general one; HTTP only. */
export function tracesProtocol(env: TracingEnv): OtlpProtocol {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || 'http/protobuf').toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json') return protocol;
  throw new TracingConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL ${JSON.stringify(protocol)} is not supported: use http/protobuf (the default) or http/json`);
}

/**
 * The endpoint the exporter will use (the traces variable first), checked: the exporter takes a value that is
 * not a URL for its localhost default, and one of another scheme fails each export, both without a word.
 */
export function tracesEndpoint(env: TracingEnv): string {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = env[name]?.trim() ?? '';
  let protocol: string | undefined;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === 'http:' || protocol === 'https:') return endpoint;
  throw new TracingConfigError(`${name} ${JSON.stringify(endpoint)} is not an http:// or https:// URL (e.g. http://otel-collector:4318)`);
}

/**
 * The service name: OTEL_SERVICE_NAME, else a `service.name` in OTEL_RESOURCE_ATTRIBUTES (the SDK reads
 * both), else this gateway's own name rather than the SDK's `unknown_service:node`.
 */
export function serviceName(env: TracingEnv): string | undefined {
  if (env.OTEL_SERVICE_NAME?.trim()) return env.OTEL_SERVICE_NAME.trim();
  const fromAttributes = (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',').some((pair) => pair.split('=')[0].trim() === 'service.name');
  return fromAttributes ? undefined : DEFAULT_SERVICE_NAME;
}

/** The exporter for the protocol; each reads its endpoint, headers, timeout and compression from the OTEL_* variables. */
export function traceExporter(env: TracingEnv): SpanExporter {
  return tracesProtocol(env) === 'http/json' ? new OtlpJsonExporter() : new OtlpProtobufExporter();
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** `POST /graphql`: the route, never a path no route matched (any caller could mint a span name per request). */
function spanName(prefix: string, request: FastifyRequest): string {
  const route = request.routeOptions.url;
  return route === undefined ? prefix : `${prefix} ${route}`;
}

/**
 * The server span of each request, made by @fastify/otel (instrumentation-http's own incoming spans are
 * off, so there is one server span, named `POST /graphql`, or `GET` alone where no route matched).
 * `url.path` loses its query string: a GET's may carry a document and its variables. Hook spans are off; the handler span stays, as it is what puts
 * the route handler (and so the GraphQL operation) in the request's context after the body is read.
 */
export function fastifyInstrumentation(): FastifyOtelInstrumentation {
  return new FastifyOtelInstrumentation({
    instrumentHooks: false,
    recordExceptions: true,
    ignorePaths: (route) => UNTRACED_PATHS.has(pathOf(route.url)),
    lifecycleHook: (span, info) => {
      if (info.hookName === 'handler') span.updateName(spanName('handler', info.request));
    },
    requestHook: (span, request: FastifyRequest) => {
      span.setAttribute('url.path', pathOf(request.url));
      span.setAttribute('http.request.id', request.id);
      span.updateName(spanName(request.method, request));
      const { traceId, spanId, traceFlags } = span.spanContext();
      if (traceFlags & TraceFlags.SAMPLED) Object.assign(request.raw, { [REQUEST_TRACE]: { trace_id: traceId, span_id: spanId } });
    },
  });
}

export interface Tracing {
  readonly sdk: NodeSDK;
  /** Registered on the app's Fastify instance by httpAdapter. */
  readonly fastify: FastifyOtelInstrumentation;
}

/**
 * The SDK with this gateway's instrumentations, not yet started. Statements, commands and calls made
 * outside any traced request (probes, start-up, sweeps) make no spans of their own (`requireParentSpan`).
 */
export function createTracing(env: TracingEnv): Tracing {
  tracesEndpoint(env);
  const fastify = fastifyInstrumentation();
  const sdk = new NodeSDK({
    serviceName: serviceName(env),
    // OTEL_RESOURCE_ATTRIBUTES and the host; not the process detector, which exports the command line.
    resourceDetectors: [resources.envDetector, resources.hostDetector],
    sampler: new GraphQLOnlyInRequests(samplerFromEnv(env)),
    // Batched as OTEL_BSP_* say (the SDK's default batch processor).
    traceExporter: new PrivateValuesFilter(traceExporter(env)),
    // Traces only: without these the SDK would also start OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      fastify,
      // Client spans (RevenueCat), with `traceparent` injected. No headers are recorded.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: true }),
      // One `graphql.execute` span per operation named `mutation adjustCredits`, plus parse and validate;
      // no per-field spans, and literals never recorded (`allowValues: false`).
      new GraphQLInstrumentation({ allowValues: false, depth: 0, ignoreResolveSpans: true, ignoreTrivialResolveSpans: true, mergeItems: true }),
      // Parameterised text only: the bound values are never recorded (`enhancedDatabaseReporting: false`).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true, addSqlCommenterCommentToQueries: false }),
      // The command's name alone: keys and values can carry a token's hash or an event's contents.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  return { sdk, fastify };
}
