import { trace, TraceFlags } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { Tracing } from './tracing';

let started: Tracing | undefined;

/** On when an OTLP endpoint is configured and the SDK is not disabled (`OTEL_SDK_DISABLED=true`). */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Starts OpenTelemetry when the OTEL_* variables ask for it. Must run before Nest, Fastify, graphql, pg,
 * ioredis and http are first required: the instrumentations patch them as they load. main.ts imports
 * tracing/start first; nothing else needs to. An unusable setting ends the process as a configuration error.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): boolean {
  if (started || !tracingRequested(env)) return started !== undefined;
  // Required only here: the SDK and its exporters are a lot of code that a gateway without tracing never runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on, as said above
  const { createTracing, TracingConfigError } = require('./tracing') as typeof import('./tracing');
  try {
    started = createTracing(env);
  } catch (error) {
    if (!(error instanceof TracingConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  started.sdk.start();
  return true;
}

export function tracingStarted(): boolean {
  return started !== undefined;
}

/** Puts the server span on every request of this Fastify instance; nothing when tracing is off. */
export function traceRequests(fastify: FastifyInstance): void {
  if (!started) return;
  // Called, not `register`ed: registration is deferred, and the routes Nest adds first would go unseen.
  started.fastify.plugin()(fastify, {}, () => undefined);
}

/**
 * The ids a log line carries to lead to its trace: of the span active where it is written, when that
 * span's trace is sampled (an unsampled one is exported nowhere, so its id would lead nowhere).
 */
export function traceFields(): { trace_id: string; span_id: string } | Record<string, never> {
  const context = trace.getActiveSpan()?.spanContext();
  if (context === undefined || (context.traceFlags & TraceFlags.SAMPLED) === 0) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** Where the server span's ids are kept on the raw request (its `IncomingMessage`), for the request's log line. */
export const REQUEST_TRACE = Symbol('requestTrace');

/** The ids of a request's server span, when it was traced and sampled. */
export function requestTraceFields(req: object): { trace_id: string; span_id: string } | Record<string, never> {
  return (req as { [REQUEST_TRACE]?: { trace_id: string; span_id: string } })[REQUEST_TRACE] ?? {};
}

/** Exports the spans still buffered, giving up after `timeoutMs`: a collector that does not answer must not hold up the exit. */
export async function flushTracing(timeoutMs: number): Promise<void> {
  if (!started) return;
  const { sdk } = started;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sdk.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
