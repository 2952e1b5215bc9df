import axios, { AxiosError } from 'axios';
import type { AxiosAdapter, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { Agent as HttpAgent, ClientRequest, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { constants, createBrotliDecompress, createUnzip } from 'node:zlib';
import { Deadlines } from '../common/deadlines';

export interface NodeHttpTransportOptions {
  /** The whole exchange, from sending the request to the last byte of the answer. */
  timeoutMs: number;
  /** The largest answer read, counted after decompression; beyond it the answer is cut off. */
  maxAnswerBytes: number;
  /** Sent with every request (the RevenueCat key, Accept); a request's own headers come after them. */
  headers: Record<string, string>;
  /**
   * The answer's headers the caller reads (lower case). Only these are handed back: axios turns every
   * header it is given into an AxiosHeaders entry on every answer, which cost more than the call itself.
   */
  answerHeaders: readonly string[];
}

// As axios's own http adapter decompresses: tolerant of a truncated stream.
const ZLIB_OPTIONS = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH };
const BROTLI_OPTIONS = { flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH };

/**
 * The axios instance of the RevenueCat client, set up once: every request goes through axios's own
 * pipeline (its config, headers and promise handling, and the @nestjs/axios instance), but is carried by
 * the lean adapter below. axios's general-purpose http adapter (proxies, redirects, form data, streams,
 * progress events, a config merge of some twenty options) cost more CPU per call than the rest of the
 * request path together. What axios still does on every call is merge the request's config into the
 * instance's defaults and turn headers, both ways, into AxiosHeaders; so the defaults hold the adapter
 * alone, the headers sent on every call are the adapter's own, and an answer carries back only the
 * headers the caller reads (`answerHeaders`). That halves what axios costs per call.
 */
export class NodeHttpTransport {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 128 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 128 });

  /** One timer for every exchange's deadline (they all have the same duration), not one per exchange. */
  private readonly deadlines: Deadlines;

  /** The headers sent with every request, as name, value, name, value. */
  private readonly fixedHeaders: string[];

  constructor(private readonly options: NodeHttpTransportOptions) {
    this.deadlines = new Deadlines(options.timeoutMs);
    this.fixedHeaders = Object.entries(options.headers).flat();
  }

  /**
   * Points `instance`, which must be this client's alone, at this transport: its defaults (adapter,
   * transforms, headers) are replaced in place, since its requests read the defaults object it was
   * created with.
   */
  install(instance: AxiosInstance): void {
    if (instance === axios) throw new Error('NodeHttpTransport needs an axios instance of its own, not the global one');
    const defaults = instance.defaults as unknown as Record<string, unknown>;
    for (const key of Object.keys(defaults)) delete defaults[key];
    // No transforms either: the body is sent as given (a string) and the answer handed back as text,
    // which the caller parses once.
    defaults.adapter = this.adapter;
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * One exchange over node:http(s): resolves with every answer, whatever its status (the caller decides
   * what a status means); rejects as axios's own adapter would, with the codes the caller maps:
   * ETIMEDOUT (past the deadline), ERR_BAD_RESPONSE (an answer over the bound, or one cut short), or
   * the socket's own error code.
   */
  private readonly adapter: AxiosAdapter = (config: InternalAxiosRequestConfig) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      const url = new URL(config.url!);
      const https = url.protocol === 'https:';
      const data = typeof config.data === 'string' ? config.data : undefined;
      let headers: Record<string, string> | string[];
      if (data === undefined) {
        // As a list, Node writes them as they are, without a setHeader call per header; Host is then ours to send.
        headers = [...this.fixedHeaders, 'Host', url.host];
      } else {
        headers = { ...this.options.headers, ...(config.headers.toJSON(true) as Record<string, string>) };
        headers['Content-Length'] = String(Buffer.byteLength(data));
      }
      const { timeoutMs, maxAnswerBytes } = this.options;
      let settled = false;
      let answer: Readable | undefined;
      const fail = (error: AxiosError) => {
        if (settled) return;
        settled = true;
        this.deadlines.clear(req);
        req.destroy();
        answer?.destroy();
        reject(error);
      };
      const req: ClientRequest = (https ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: config.method!.toUpperCase(),
          headers,
          agent: https ? this.httpsAgent : this.httpAgent,
        },
        (res: IncomingMessage) => {
          const body = decoded(res);
          answer = body;
          const chunks: Buffer[] = [];
          let bytes = 0;
          body.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > maxAnswerBytes) {
              fail(new AxiosError(`maxContentLength size of ${maxAnswerBytes} exceeded`, AxiosError.ERR_BAD_RESPONSE, config, req));
              return;
            }
            chunks.push(chunk);
          });
          body.on('error', (error: Error) => fail(AxiosError.from(error, AxiosError.ERR_BAD_RESPONSE, config, req)));
          res.on('aborted', () => fail(new AxiosError('stream has been aborted', AxiosError.ERR_BAD_RESPONSE, config, req)));
          body.on('end', () => {
            if (settled) return;
            settled = true;
            this.deadlines.clear(req);
            resolve({
              data: (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8'),
              status: res.statusCode!,
              statusText: res.statusMessage ?? '',
              headers: this.kept(res.headers),
              config,
              request: req,
            });
          });
        },
      );
      this.deadlines.set(req, () => fail(new AxiosError(`timeout of ${timeoutMs}ms exceeded`, AxiosError.ETIMEDOUT, config, req)));
      req.on('error', (error: NodeJS.ErrnoException) => fail(AxiosError.from(error, error.code, config, req)));
      req.end(data);
    });

  private kept(all: IncomingMessage['headers']): AxiosResponse['headers'] {
    const kept: Record<string, string> = {};
    for (const name of this.options.answerHeaders) {
      const value = all[name];
      if (typeof value === 'string') kept[name] = value;
    }
    return kept;
  }
}

/** The answer's body, decompressed as axios's own adapter would (gzip, deflate, brotli); anything else as it came. */
function decoded(res: IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').toLowerCase();
  if (res.statusCode === 204 || encoding === '') return res;
  let decoder: Readable & NodeJS.WritableStream;
  if (['gzip', 'x-gzip', 'compress', 'x-compress', 'deflate'].includes(encoding)) decoder = createUnzip(ZLIB_OPTIONS);
  else if (encoding === 'br') decoder = createBrotliDecompress(BROTLI_OPTIONS);
  else return res;
  delete res.headers['content-encoding'];
  res.on('error', (error) => decoder.destroy(error));
  return res.pipe(decoder);
}
