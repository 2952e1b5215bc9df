import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { Errors } from './errors';
import { formatGraphQLError, gatewayRequestPlugin } from './graphql-errors';

describe('formatGraphQLError', () => {
  it('passes a catalogue error through with only its code, status and safe details', () => {
    const error = Errors.rcCallFailed('server_error');
    const wrapped = new GraphQLError(error.message, { originalError: error, path: ['balances'] });
    const formatted = formatGraphQLError({ message: wrapped.message, path: ['balances'], extensions: { stacktrace: ['x'] } }, wrapped);
    expect(formatted).toEqual({
      message: 'rc_call_failed: server_error',
      path: ['balances'],
      extensions: { code: 'rc_call_failed', status: 502, rcType: 'server_error' },
    });
  });

  it('hides anything unexpected behind internal_error', () => {
    const secret = new Error('connect ECONNREFUSED with key sk_live_123');
    const wrapped = new GraphQLError(secret.message, { originalError: secret });
    const formatted = formatGraphQLError({ message: secret.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, wrapped);
    expect(formatted.extensions).toEqual({ code: 'internal_error', status: 500 });
    expect(JSON.stringify(formatted)).not.toContain('sk_live_123');
  });

  it.each([
    ['BAD_USER_INPUT', 'Variable "$input" got invalid value 1.5 at "input.amount"; Int cannot represent non-integer value: 1.5', 'invalid_argument', 'amount'],
    ['GRAPHQL_VALIDATION_FAILED', 'Field "AdjustCreditsInput.reason" of required type "String!" was not provided.', 'invalid_argument', 'reason'],
    ['GRAPHQL_VALIDATION_FAILED', 'Cannot query field "secrets" on type "Query".', 'invalid_query', undefined],
    ['GRAPHQL_PARSE_FAILED', 'Syntax Error: Unexpected "}".', 'invalid_query', undefined],
    ['BAD_REQUEST', 'POST body missing', 'bad_request', undefined],
  ])('maps %s to %s', (apolloCode, message, code, field) => {
    const formatted = formatGraphQLError({ message, extensions: { code: apolloCode } }, new GraphQLError(message));
    expect(formatted.extensions?.code).toBe(code);
    expect(formatted.extensions?.status).toBe(400);
    expect(formatted.extensions?.field).toBe(field);
  });
});

describe('gatewayRequestPlugin', () => {
  async function statusFor(data: Record<string, unknown> | null | undefined, errors: GraphQLFormattedError[]) {
    const response = {
      http: { status: undefined as number | undefined, headers: new HeaderMap() },
      body: { kind: 'single' as const, singleResult: { data, errors } },
    };
    const listener = await gatewayRequestPlugin.requestDidStart!({} as never);
    await listener!.willSendResponse!({ response } as unknown as GraphQLRequestContextWillSendResponse<never>);
    return { status: response.http.status, retryAfter: response.http.headers.get('retry-after'), cacheControl: response.http.headers.get('cache-control') };
  }
  const notFound = { message: 'x', extensions: { code: 'rc_customer_not_found', status: 404 } };
  const limited = { message: 'y', extensions: { code: 'rate_limited', status: 429, retryAfterSeconds: 12 } };

  it('uses the first error status when no root field succeeded', async () => {
    expect(await statusFor(null, [notFound, limited])).toEqual({ status: 404, retryAfter: undefined, cacheControl: 'no-store' });
    expect(await statusFor({ a: null, b: null }, [limited, notFound])).toEqual({ status: 429, retryAfter: '12', cacheControl: 'no-store' });
  });

  it("adds the request's id (request.id, from the context) to every error", async () => {
    const response = { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single' as const, singleResult: { data: null, errors: [notFound, limited] } } };
    const listener = await gatewayRequestPlugin.requestDidStart!({} as never);
    await listener!.willSendResponse!({ response, contextValue: { req: { id: 'req-42' } } } as unknown as GraphQLRequestContextWillSendResponse<never>);
    expect(response.body.singleResult.errors.map((error) => error.extensions)).toEqual([
      { ...notFound.extensions, requestId: 'req-42' },
      { ...limited.extensions, requestId: 'req-42' },
    ]);
  });

  it('answers 200 when some root field succeeded', async () => {
    expect((await statusFor({ a: { id: 1 }, b: null }, [notFound])).status).toBe(200);
  });

  it("logs an unexpected error for us, with the request id, and neither ours nor the caller's mistakes", async () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const secret = new Error('connect ECONNREFUSED');
    const errors = [
      new GraphQLError(secret.message, { originalError: secret, path: ['balances'] }),
      new GraphQLError('x', { originalError: Errors.rcCallFailed('server_error') }),
      new GraphQLError('Cannot query field "secrets" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ];
    const listener = await gatewayRequestPlugin.requestDidStart!({} as never);
    await listener!.didEncounterErrors!({ errors, contextValue: { req: { id: 'req-4711' } } } as never);
    expect(log.mock.calls).toEqual([[{ requestId: 'req-4711', err: secret }, 'Unexpected error at balances: Error: connect ECONNREFUSED']]);
    log.mockRestore();
  });

  it("forbids caching every answer, as Apollo's cache-control plugin (not installed) did", async () => {
    expect(await statusFor({ a: { id: 1 } }, [])).toEqual({ status: undefined, retryAfter: undefined, cacheControl: 'no-store' });
  });
});
