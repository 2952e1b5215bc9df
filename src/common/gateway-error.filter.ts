import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Errors, GatewayError } from './errors';
import { REFUSAL_COUNTER, sendRefusal, type RefusalCounter } from './http-refusal';

/** The largest GraphQL request body accepted (Fastify's bodyLimit); a real operation with its variables is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Catalogue errors are answers, not faults. In a resolver they go back to the caller as they are, without
 * Nest's default handler logging each one with a stack; over plain HTTP (a refusal before GraphQL runs,
 * thrown from a Fastify hook) they are written as the catalogue's body. Anything else still reaches Nest's
 * default handler and is logged.
 */
@Catch(GatewayError)
export class GatewayErrorFilter implements GqlExceptionFilter, ExceptionFilter {
  constructor(@Inject(REFUSAL_COUNTER) private readonly refused: RefusalCounter) {}

  catch(error: GatewayError, host: ArgumentsHost): GatewayError | undefined {
    if (host.getType() !== 'http') return error;
    const http = host.switchToHttp();
    sendRefusal(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), error, this.refused);
    return undefined;
  }
}

/**
 * Fastify's own refusals of a request body (Nest's error handler hands them on as HttpExceptions of their
 * status), answered from the catalogue like every other refusal. Any other HttpException gets Nest's answer.
 */
@Catch(HttpException)
export class BodyErrorFilter extends BaseExceptionFilter {
  constructor(@Inject(REFUSAL_COUNTER) private readonly refused: RefusalCounter) {
    super();
  }

  override catch(error: HttpException, host: ArgumentsHost): void {
    // In a resolver, what Nest's own handler does with an HttpException: handed on to GraphQL as it is.
    if (host.getType() !== 'http') throw error;
    const refusal = bodyRefusal(error);
    if (refusal === undefined) return super.catch(error, host);
    const http = host.switchToHttp();
    sendRefusal(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), refusal, this.refused);
  }
}

function bodyRefusal(error: HttpException): GatewayError | undefined {
  switch (error.getStatus()) {
    case 413:
      return Errors.payloadTooLarge(MAX_BODY_BYTES);
    case 415:
      // No parser for the type (a form), or a Content-Type that is not a media type (`application/json, text/plain`).
      return Errors.badRequest('the Content-Type is not application/json');
    case 400:
      // Fastify's messages are fixed texts (not valid JSON, empty, shorter than its Content-Length).
      return Errors.badRequest(`the body could not be read: ${error.message}`);
    default:
      return undefined;
  }
}
