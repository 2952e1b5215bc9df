import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { SamplingDecision, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { tracingRequested } from './index';
import { PrivateValuesFilter, withoutPrivateValues } from './private-values';
import { GraphQLOnlyInRequests, samplerFromEnv } from './sampler';
import { DEFAULT_SERVICE_NAME, serviceName, tracesEndpoint, tracesProtocol, TracingConfigError } from './tracing';

describe('tracing configuration', () => {
  it('is on with an OTLP endpoint (general or traces) unless OTEL_SDK_DISABLED=true', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' })).toBe(true);
  });

  it('speaks http/protobuf unless told http/json, the traces variable first, and refuses grpc', () => {
    expect(tracesProtocol({})).toBe('http/protobuf');
    expect(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe('http/protobuf');
    expect(() => tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(TracingConfigError);
  });

  it('refuses an endpoint that is not an http(s) URL, rather than exporting nowhere without a word', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: ' http://collector:4318 ' })).toBe('http://collector:4318');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' })).toBe(
      'https://collector/v1/traces',
    );
    for (const endpoint of ['not-a-url', 'collector:4318', 'ftp://collector:4318', '//collector:4318']) {
      expect(() => tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(
        `OTEL_EXPORTER_OTLP_ENDPOINT ${JSON.stringify(endpoint)} is not an http:// or https:// URL`,
      );
    }
    expect(() => tracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector/v1/traces' })).toThrow(TracingConfigError);
  });

  it('names the service credits-admin-gateway unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES do', () => {
    expect(serviceName({})).toBe(DEFAULT_SERVICE_NAME);
    expect(serviceName({ OTEL_SERVICE_NAME: 'gateway-eu' })).toBe('gateway-eu');
    // Left to the SDK, which reads it from there.
    expect(serviceName({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=gw' })).toBeUndefined();
    expect(serviceName({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod' })).toBe(DEFAULT_SERVICE_NAME);
  });
});

describe('the sampler', () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const within = (traceFlags: number, isRemote: boolean) =>
    trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags, isRemote } satisfies SpanContext);
  const decide = (env: Record<string, string>, context = ROOT_CONTEXT, name = 'POST /graphql') =>
    new GraphQLOnlyInRequests(samplerFromEnv(env)).shouldSample(context, traceId, name, SpanKind.SERVER, {}, []).decision;

  it('reads OTEL_TRACES_SAMPLER and its ratio, parentbased_always_on by default', () => {
    expect(samplerFromEnv({}).toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).toString()).toBe('TraceIdRatioBased{0.1}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'lots' }).toString()).toMatch(/root=TraceIdRatioBased\{1\}/);
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    // A caller's decision is followed.
    expect(decide({}, within(TraceFlags.NONE, true))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('starts no trace at a GraphQL span, and records nothing under a span of this process left out', () => {
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_on' }, ROOT_CONTEXT, 'graphql.execute')).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_on' }, within(TraceFlags.SAMPLED, false), 'graphql.execute')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_on' }, within(TraceFlags.NONE, false), 'pg.query:SELECT')).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('PrivateValuesFilter', () => {
  function span(scope: string, fields: Partial<ReadableSpan> = {}): ReadableSpan {
    return {
      name: 'span',
      instrumentationScope: { name: scope },
      attributes: {},
      events: [],
      status: { code: SpanStatusCode.UNSET },
      ...fields,
    } as ReadableSpan;
  }
  const failed = (scope: string) =>
    span(scope, {
      status: { code: SpanStatusCode.ERROR, message: 'Int cannot represent non-integer value: "REASON"' },
      events: [
        {
          name: 'exception',
          time: [0, 0],
          attributes: { 'exception.type': 'GraphQLError', 'exception.message': '"REASON"', 'exception.stacktrace': 'GraphQLError: "REASON"' },
        },
      ],
    });

  it("drops graphql.source, and withholds error texts of the instrumentations that quote a caller's input", () => {
    const graphql = withoutPrivateValues(
      span('@opentelemetry/instrumentation-graphql', { attributes: { 'graphql.source': '# REASON', 'graphql.operation.type': 'mutation' } }),
    );
    expect(graphql.attributes).toEqual({ 'graphql.operation.type': 'mutation' });
    for (const scope of ['@opentelemetry/instrumentation-graphql', '@opentelemetry/instrumentation-pg', '@fastify/otel']) {
      const withheld = withoutPrivateValues(failed(scope));
      expect(withheld.status).toEqual({ code: SpanStatusCode.ERROR, message: '[withheld]' });
      expect(withheld.events[0].attributes).toEqual({ 'exception.type': 'GraphQLError', 'exception.message': '[withheld]' });
      expect(JSON.stringify([withheld.status, withheld.events])).not.toContain('REASON');
    }
  });

  it('leaves the other spans as they are, and the recorded span untouched', () => {
    const client = failed('@opentelemetry/instrumentation-http');
    expect(withoutPrivateValues(client)).toBe(client);
    const recorded = span('@opentelemetry/instrumentation-graphql', { attributes: { 'graphql.source': 'x' } });
    withoutPrivateValues(recorded);
    expect(recorded.attributes).toEqual({ 'graphql.source': 'x' });
  });

  it('hands the next exporter the filtered spans', () => {
    const exported: ReadableSpan[][] = [];
    const next: SpanExporter = { export: (spans, done) => (exported.push(spans), done({ code: 0 })), shutdown: () => Promise.resolve() };
    new PrivateValuesFilter(next).export([span('@opentelemetry/instrumentation-graphql', { attributes: { 'graphql.source': 'x' } })], () => undefined);
    expect(exported[0][0].attributes).toEqual({});
  });
});
