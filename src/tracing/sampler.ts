import { trace, TraceFlags, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';

type Env = Readonly<Record<string, string | undefined>>;

/** The ratio of OTEL_TRACES_SAMPLER_ARG, 1 when unset or not a number from 0 to 1 (as the SDK reads it). */
function ratio(env: Env): number {
  const value = Number(env.OTEL_TRACES_SAMPLER_ARG?.trim() || 'NaN');
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
}

/**
 * The sampler OTEL_TRACES_SAMPLER names (the SDK's six; `parentbased_always_on` when unset or unknown),
 * read here rather than by the SDK only because GraphQLOnlyInRequests wraps it.
 */
export function samplerFromEnv(env: Env): Sampler {
  switch (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio(env));
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio(env)) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * No trace starts at a GraphQL span: outside an HTTP request one is the schema's introspection at start-up,
 * or a WebSocket subscription's execution for each event and subscriber, a root trace each. Whatever runs
 * under a span left out here (a span of this process that is not sampled) is left out too.
 */
export class GraphQLOnlyInRequests implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent === undefined || !trace.isSpanContextValid(parent)) {
      if (spanName.startsWith('graphql.')) return { decision: SamplingDecision.NOT_RECORD };
    } else if (!parent.isRemote && (parent.traceFlags & TraceFlags.SAMPLED) === 0) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `GraphQLOnlyInRequests{${this.inner.toString()}}`;
  }
}
