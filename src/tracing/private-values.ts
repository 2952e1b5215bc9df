import type { Attributes, SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** The instrumentations whose error texts can quote what a caller sent: a document literal, a body, a bound SQL value. */
const QUOTING_SCOPES = new Set(['@opentelemetry/instrumentation-graphql', '@opentelemetry/instrumentation-pg', '@fastify/otel']);

/** Attributes never exported: the document's source keeps its comments, and a `# reason` comment is still a reason. */
const DROPPED_ATTRIBUTES = new Set(['graphql.source']);

const WITHHELD = '[withheld]';

/**
 * The exporter every span goes through before it leaves the process: drops `graphql.source` and, for the
 * instrumentations above, replaces error messages (span status, `exception` events) with their type only.
 * GraphQL validation errors quote literals ("found \"...\""); PostgreSQL errors quote bound values
 * ("invalid input syntax for type integer: \"...\""); Fastify's JSON parser quotes the body it refused.
 */
export class PrivateValuesFilter implements SpanExporter {
  constructor(private readonly next: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.next.export(spans.map(withoutPrivateValues), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush?.() ?? Promise.resolve();
  }
}

/** The span as exported; the recorded one is left as it is (a view over it, not a copy of every field). */
export function withoutPrivateValues(span: ReadableSpan): ReadableSpan {
  const quoting = QUOTING_SCOPES.has(span.instrumentationScope.name);
  const dropsAttribute = Object.keys(span.attributes).some((key) => DROPPED_ATTRIBUTES.has(key));
  if (!quoting && !dropsAttribute) return span;
  const view = Object.create(span) as { -readonly [K in keyof ReadableSpan]: ReadableSpan[K] };
  if (dropsAttribute) view.attributes = withoutKeys(span.attributes);
  if (quoting) {
    view.status = withoutMessage(span.status);
    view.events = span.events.map((event) =>
      event.name === 'exception' && event.attributes !== undefined ? { ...event, attributes: withheldMessage(event.attributes) } : event,
    );
  }
  return view;
}

function withoutKeys(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (!DROPPED_ATTRIBUTES.has(key)) kept[key] = value;
  return kept;
}

function withoutMessage(status: SpanStatus): SpanStatus {
  return status.message === undefined || status.message === '' ? status : { code: status.code, message: WITHHELD };
}

function withheldMessage(attributes: Attributes): Attributes {
  const kept: Attributes = { ...attributes };
  if ('exception.message' in kept) kept['exception.message'] = WITHHELD;
  // A stack's first line repeats the message.
  delete kept['exception.stacktrace'];
  return kept;
}
