import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, Errors, GatewayError } from './errors';
import type { RefusalCounter } from './http-refusal';

/** What Node passes to `clientError`: an llhttp parse error (`HPE_*`, with a fixed `reason`) or a timeout. */
export interface ClientError extends Error {
  code?: string;
  reason?: string;
}

/** The catalogue's answer to a request Node refused before any handler saw it. */
export function clientErrorRefusal(error: ClientError): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return Errors.headersTooLarge();
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GatewayError('payload_too_large', 'payload_too_large: a chunk extension is larger than the server accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'request_timeout: the request did not arrive in full in time');
    default:
      // llhttp's reasons are fixed texts ("Invalid header value char"), never the request's bytes.
      return Errors.badRequest(`the HTTP request could not be parsed${error.reason ? ` (${error.reason})` : ''}`);
  }
}

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refused (malformed, headers over the limit, never
 * arriving in full) gets the catalogue's error with a fresh request id, is counted as a refusal, and closes
 * its connection (the parser cannot go on). It is written after any answer owed to a request pipelined
 * before it, never in its place: a caller must not read a 400 as the outcome of a mutation that ran.
 */
export class ClientErrorResponder {
  private readonly logger = new Logger('HttpServer');
  private refused?: RefusalCounter;
  /** Each connection's latest response; responses are written in order, so when it is done all are. */
  private readonly latest = new WeakMap<Duplex, ServerResponse>();
  /** Connections already being refused: after an error Node reports each further chunk it reads as one too. */
  private readonly refusing = new WeakSet<Duplex>();

  /** Once the app exists: its refusal counter, and the server whose responses it must not write over. */
  attach(server: Server, refused: RefusalCounter): void {
    this.refused = refused;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.latest.set(req.socket, res));
  }

  readonly handle = (error: ClientError, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy();
      return;
    }
    if (this.refusing.has(socket)) return;
    this.refusing.add(socket);
    const refusal = clientErrorRefusal(error);
    const requestId = randomUUID();
    this.refused?.inc({ code: refusal.code });
    this.logger.log({ msg: 'request refused by the HTTP parser', requestId, status: refusal.status, code: refusal.code, parserError: error.code });
    const pending = this.latest.get(socket);
    if (pending && !pending.writableFinished) pending.once('close', () => this.refuse(socket, refusal, requestId));
    else this.refuse(socket, refusal, requestId);
  };

  /**
   * Fastify's `frameworkErrors`: its router refuses a URL it cannot decode (`/graphql%`) or a path segment
   * over its length limit before any hook runs. The catalogue's 400 with the request id, counted; the
   * path is not echoed (Fastify's own answer quotes it).
   */
  readonly frameworkError = (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void => {
    const refusal = Errors.badRequest(error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a segment of the URL is too long' : 'the URL is not valid percent-encoding');
    this.refused?.inc({ code: refusal.code });
    void reply.header('x-request-id', request.id).code(refusal.status).type('application/json; charset=utf-8').send(errorBody(refusal, request.id));
  };

  private refuse(socket: Duplex, refusal: GatewayError, requestId: string): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = errorBody(refusal, requestId);
    // Destroyed once the answer is flushed: a destroy straight after the write may reset the connection
    // before the caller has read it when its request is still arriving (headers over the limit).
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  }
}
