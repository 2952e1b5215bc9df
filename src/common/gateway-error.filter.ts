import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GatewayError } from './errors';

/**
 * Catalogue errors are answers, not faults: they go back to the caller as they are, without Nest's
 * default handler logging each one with a stack. Anything else still reaches that handler and is logged.
 */
@Catch(GatewayError)
export class GatewayErrorFilter implements GqlExceptionFilter {
  catch(error: GatewayError): GatewayError {
    return error;
  }
}
