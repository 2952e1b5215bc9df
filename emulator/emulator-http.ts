import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { EmulatorAnswer, errorAnswer } from './emulator-errors';

/** The largest request body the emulator reads, like RevenueCat's own limit (not the gateway's). */
const MAX_EMULATED_BODY_BYTES = 64 * 1024;
/** Past this an oversized upload is cut off instead of drained, so a runaway client cannot pin the emulator. */
const MAX_DRAIN_BYTES = 1024 * 1024;

export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export interface RequestBody {
  text: string;
  tooLarge: boolean;
  /** The upload was cut off; the connection must close after the answer. */
  truncated: boolean;
}

const EMPTY_BODY: RequestBody = { text: '', tooLarge: false, truncated: false };

export function readBody(req: IncomingMessage): Promise<RequestBody> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve(EMPTY_BODY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_EMULATED_BODY_BYTES) {
        chunks.push(chunk);
      } else if (received > MAX_DRAIN_BYTES) {
        cleanup();
        resolve({ text: '', tooLarge: true, truncated: true });
      }
    };
    const onEnd = () => {
      cleanup();
      const tooLarge = received > MAX_EMULATED_BODY_BYTES;
      resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge, truncated: false });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): ParsedJson {
  if (text === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function bodyTooLargeAnswer(): EmulatorAnswer {
  return errorAnswer(400, 'invalid_request', `The request body exceeds ${MAX_EMULATED_BODY_BYTES} bytes`);
}

export function writeAnswer(res: ServerResponse, answer: EmulatorAnswer, headers?: Record<string, string>, closeConnection = false): void {
  if (res.destroyed) return;
  const all: OutgoingHttpHeaders = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(answer.body),
    ...headers,
    ...answer.headers,
  };
  // The rest of a cut-off upload is still arriving; closing is the only way to stop it.
  if (closeConnection) all.Connection = 'close';
  res.writeHead(answer.status, all);
  res.end(answer.body);
}
