import { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { EmulatorEndpoint, RateLimitDomain } from './emulator.types';

export const MAX_BODY_BYTES = 64 * 1024;
/** Past this an oversized upload is cut off instead of drained, so a runaway client cannot pin the emulator. */
const MAX_DRAIN_BYTES = 1024 * 1024;

export const ENDPOINT_DOMAINS: Readonly<Record<EmulatorEndpoint, RateLimitDomain>> = {
  list_currencies: 'project_configuration',
  list_balances: 'customer_information',
  create_transaction: 'virtual_currencies_create_transaction',
};

export const EMULATOR_ENDPOINTS = Object.keys(ENDPOINT_DOMAINS) as EmulatorEndpoint[];

export interface ApiRoute {
  endpoint: EmulatorEndpoint;
  projectSegment: string;
  customerSegment?: string;
}

/** Matches on raw segments so an encoded slash inside an id never splits it. */
export function matchApiRoute(method: string, path: string): ApiRoute | undefined {
  const s = path.split('/');
  if (s.length < 5 || s[0] !== '' || s[1] !== 'v2' || s[2] !== 'projects') return undefined;
  const projectSegment = s[3];
  if (s[4] === 'virtual_currencies') {
    return method === 'GET' && s.length === 5 ? { endpoint: 'list_currencies', projectSegment } : undefined;
  }
  if (s[4] !== 'customers' || s.length < 7 || s[6] !== 'virtual_currencies') return undefined;
  const customerSegment = s[5];
  if (s.length === 7) return method === 'GET' ? { endpoint: 'list_balances', projectSegment, customerSegment } : undefined;
  if (s.length !== 8 || method !== 'POST') return undefined;
  return s[7] === 'transactions' ? { endpoint: 'create_transaction', projectSegment, customerSegment } : undefined;
}

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
      if (received <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      } else if (received > MAX_DRAIN_BYTES) {
        cleanup();
        resolve({ text: '', tooLarge: true, truncated: true });
      }
    };
    const onEnd = () => {
      cleanup();
      const tooLarge = received > MAX_BODY_BYTES;
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

export type BearerCheck = 'ok' | 'missing' | 'invalid';

export function checkBearer(header: string | undefined, expected: Buffer): BearerCheck {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return 'missing';
  const given = Buffer.from(match[1]);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}

export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
