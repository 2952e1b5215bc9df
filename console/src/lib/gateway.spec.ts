import { describe, expect, it, vi } from 'vitest';
import type { TypedDocumentString } from '../gql/graphql';
import { createGateway, GatewayError } from './gateway';

const Me = '{ me { name } }' as unknown as TypedDocumentString<{ me: { name: string } }, Record<string, never>>;

function answering(status: number, body: string, headers: Record<string, string> = {}) {
  return vi.fn<typeof fetch>(async () => new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } }));
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('createGateway', () => {
  it('posts the document with the bearer and its own x-request-id, and answers data', async () => {
    const fetch = answering(200, JSON.stringify({ data: { me: { name: 'admin' } } }));
    const gateway = createGateway({ token: 't0k', origin: 'http://gw', fetch });
    await expect(gateway.request(Me, {})).resolves.toEqual({ me: { name: 'admin' } });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('http://gw/graphql');
    const headers = init?.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer t0k');
    expect(headers['x-request-id']).toMatch(/^console-[0-9a-f]{24}$/);
    expect(JSON.parse(init?.body as string)).toEqual({ query: '{ me { name } }', variables: {} });
  });

  it('turns the first GraphQL error into its code, message and request id', async () => {
    const fetch = answering(
      422,
      JSON.stringify({ errors: [{ message: 'insufficient_balance: no', extensions: { code: 'insufficient_balance', requestId: 'req-1', balance: 5 } }] }),
    );
    const error = await failure(createGateway({ token: 't', origin: 'http://gw', fetch }).request(Me, {}));
    expect([error.code, error.message, error.requestId, error.extensions.balance]).toEqual(['insufficient_balance', 'insufficient_balance: no', 'req-1', 5]);
  });

  it('takes the request id from the x-request-id header when the error has none', async () => {
    const fetch = answering(502, 'Bad Gateway', { 'content-type': 'text/plain', 'x-request-id': 'from-header' });
    const error = await failure(createGateway({ token: 't', origin: 'http://gw', fetch }).request(Me, {}));
    expect([error.code, error.requestId, error.answerLost]).toEqual(['bad_response', 'from-header', true]);
  });

  it('names a lost answer network_error, with the request id it sent', async () => {
    const failing = vi.fn<typeof fetch>(async () => {
      throw new TypeError('Failed to fetch');
    });
    const error = await failure(createGateway({ token: 't', origin: 'http://gw', fetch: failing }).request(Me, {}));
    const sent = (failing.mock.calls[0]![1]?.headers as Record<string, string>)['x-request-id'];
    expect([error.code, error.requestId, error.answerLost]).toEqual(['network_error', sent, true]);
  });

  it('tells the page when the credential is refused', async () => {
    const onRefused = vi.fn();
    const fetch = answering(403, JSON.stringify({ errors: [{ message: 'invalid_admin_secret: no', extensions: { code: 'invalid_admin_secret', requestId: 'r' } }] }));
    await failure(createGateway({ token: 't', origin: 'http://gw', fetch, onRefused }).request(Me, {}));
    expect(onRefused.mock.calls.map(([error]) => (error as GatewayError).code)).toEqual(['invalid_admin_secret']);
  });
});
