import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError, OperationTypeNode } from 'graphql';
import { Errors, formatError, GatewayError, parseFailure, validationFailure } from './errors';
import { requestIdOf } from './request-id';

const logger = new Logger('GraphQLErrors');

/**
 * Turns whatever went wrong into the catalogue's shape: message, code, status and the safe details (the
 * request id is added by gatewayRequestPlugin, from the request in the context). Every error Apollo answers passes
 * here, also those it answers before any plugin runs. Stack traces, upstream bodies and `originalError`
 * never leave this function; an unexpected error is logged by gatewayRequestPlugin, with the request id.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  // Validation rules report our errors too; Apollo wraps those, keeping ours as the original.
  const reported = original instanceof GraphQLError ? original.originalError : undefined;
  const mapped = original instanceof GatewayError ? original : reported instanceof GatewayError ? reported : fromApolloError(formatted);
  const { message, extensions } = formatError(mapped, undefined);
  return {
    message,
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions,
  };
}

/** Apollo's and graphql-js's own codes in the catalogue's terms; anything else is ours to hide and log. */
function fromApolloError(formatted: GraphQLFormattedError): GatewayError {
  const code = formatted.extensions?.code;
  const mapped = typeof code === 'string' && Object.hasOwn(APOLLO_CODES, code) ? APOLLO_CODES[code] : undefined;
  return mapped ? mapped(formatted.message) : Errors.internal();
}

/**
 * Apollo's and graphql-js's codes for the caller's mistakes, and what each is in the catalogue. Any other
 * code is unexpected: answered internal_error, and logged (isUnexpected).
 */
const APOLLO_CODES: Record<string, (message: string) => GatewayError> = {
  BAD_USER_INPUT: (message) => Errors.invalidArgument(argumentField(message) ?? 'input', `is invalid: ${message}`),
  GRAPHQL_VALIDATION_FAILED: (message) =>
    /cannot represent|Expected value of type|was not provided|is not defined by type/.test(message)
      ? Errors.invalidArgument(argumentField(message) ?? 'input', `is invalid: ${message}`)
      : validationFailure(message),
  GRAPHQL_PARSE_FAILED: (message) => parseFailure(message),
  OPERATION_RESOLUTION_FAILURE: (message) => Errors.invalidQuery(message),
  BAD_REQUEST: (message) => Errors.badRequest(message),
  PERSISTED_QUERY_NOT_FOUND: (message) => Errors.badRequest(message),
  PERSISTED_QUERY_NOT_SUPPORTED: (message) => Errors.badRequest(message),
};

/** An error formatGraphQLError answers as internal_error: neither ours nor one of Apollo's known ones. */
function isUnexpected(error: GraphQLError): boolean {
  const original = unwrapResolverError(error);
  if (original instanceof GatewayError) return false;
  if (original instanceof GraphQLError && original.originalError instanceof GatewayError) return false;
  const code = error.extensions?.code;
  return !(typeof code === 'string' && Object.hasOwn(APOLLO_CODES, code));
}

/** `... at "input.amount"; ...` or `Field "AdjustCreditsInput.reason" of required type` → the argument's own name. */
function argumentField(message: string): string | undefined {
  const at = /at "([^"]+)"/.exec(message)?.[1];
  const field = /Field "([^"]+)"/.exec(message)?.[1];
  const variable = /Variable "\$([^"]+)"/.exec(message)?.[1];
  const argument = /[Aa]rgument "([^"]+)"/.exec(message)?.[1];
  const path = at ?? field ?? argument ?? variable;
  return path?.split('.').pop();
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Everything the gateway adds to Apollo's HTTP requests, in one plugin: Apollo calls every plugin's
 * listeners at every step of every request. It puts the request id on every error, refuses subscriptions
 * (graphql-ws carries them; Apollo would run one as a query), answers 200 when an aliased root field
 * succeeded (else the first error's status), and sends `Cache-Control: no-store`: balances are never cached.
 */
export const gatewayRequestPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
          throw Errors.badRequest('subscriptions are served over graphql-ws (graphql-transport-ws) at /graphql');
        }
      },
      async didEncounterErrors({ errors, contextValue }) {
        const requestId = requestIdOf((contextValue as { req?: unknown }).req);
        for (const error of errors) {
          if (!isUnexpected(error)) continue;
          const original = unwrapResolverError(error);
          // An object first: nestjs-pino keeps its fields (`err` with its stack) and takes the string as the message.
          logger.error({ requestId, err: original }, `Unexpected error at ${error.path?.join('.') ?? 'request'}: ${describe(original)}`);
        }
      },
      async willSendResponse({ response, contextValue }) {
        if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'no-store');
        if (response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (!errors?.length) return;
        const requestId = requestIdOf((contextValue as { req?: unknown } | undefined)?.req);
        if (requestId !== undefined) {
          response.body.singleResult.errors = errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId } }));
        }
        const someRootFieldSucceeded = data != null && Object.values(data).some((value) => value !== null);
        const status = someRootFieldSucceeded ? 200 : Number(errors[0].extensions?.status) || 500;
        response.http.status = status;
        const retryAfter = errors[0].extensions?.retryAfterSeconds;
        if (!someRootFieldSucceeded && typeof retryAfter === 'number') {
          response.http.headers.set('retry-after', String(retryAfter));
        }
      },
    };
  },
};
