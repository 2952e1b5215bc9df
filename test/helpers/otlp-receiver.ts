import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One export as received: OTLP/HTTP, JSON or protobuf. */
export interface OtlpExport {
  path: string;
  contentType: string;
  body: Buffer;
}

/** A span of an http/json export, its attributes flattened to plain values. */
export interface ExportedSpan {
  scope: string;
  serviceName: unknown;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: { code?: number; message?: string };
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValues = Array<{ key: string; value: AnyValue }> | undefined;

function plain(value: AnyValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
}

function flatten(attributes: KeyValues): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, plain(value)]));
}

/**
 * An OTLP/HTTP trace receiver of the test's own (what a collector is to the gateway): keeps every
 * POST /v1/traces and answers 200.
 */
export class OtlpReceiver {
  readonly exports: OtlpExport[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.exports.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Everything received, as one text: what must not contain a private value, whatever the encoding. */
  raw(): string {
    return this.exports.map((received) => received.body.toString('latin1')).join('\n');
  }

  /** Every span of the http/json exports received so far. */
  spans(): ExportedSpan[] {
    return this.exports
      .filter((received) => received.contentType.includes('json'))
      .flatMap((received) => {
        const request = JSON.parse(received.body.toString('utf8')) as { resourceSpans?: any[] };
        return (request.resourceSpans ?? []).flatMap((resourceSpans) =>
          (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans: any) =>
            (scopeSpans.spans ?? []).map((span: any): ExportedSpan => ({
              scope: scopeSpans.scope?.name ?? '',
              serviceName: flatten(resourceSpans.resource?.attributes)['service.name'],
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: flatten(span.attributes),
              events: (span.events ?? []).map((event: any) => ({ name: event.name, attributes: flatten(event.attributes) })),
              status: span.status ?? {},
            })),
          ),
        );
      });
  }
}
