import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminAuthenticator, AdminPrincipal } from '../auth/admin-authenticator';
import { AdminAuthMiddleware } from '../auth/admin-auth.middleware';
import type { DrainGateMiddleware } from '../lifecycle/drain-gate.middleware';
import type { Metrics } from '../metrics/metrics';
import { GraphqlGateMiddleware } from './graphql-gate.middleware';
import type { JsonBodyMiddleware } from './json-body.middleware';

type Request = IncomingMessage;
type Response = ServerResponse<IncomingMessage>;
type NextFunction = (error?: unknown) => void;

const principal = { kind: 'operator', id: 'op_1' } as unknown as AdminPrincipal;

function gate(authenticated: AdminPrincipal | Promise<AdminPrincipal>, body: JsonBodyMiddleware['use']) {
  const authenticator = { authenticate: () => authenticated } as unknown as AdminAuthenticator;
  const auth = new AdminAuthMiddleware(authenticator, {} as Metrics);
  const drain = { use: (_req: Request, _res: Response, next: NextFunction) => next() } as unknown as DrainGateMiddleware;
  return new GraphqlGateMiddleware(drain, auth, { use: body } as unknown as JsonBodyMiddleware, {} as Metrics);
}

const request = () => ({ method: 'POST', headers: { host: 'localhost', authorization: 'Bearer x' } }) as unknown as Request;

describe('GraphqlGateMiddleware', () => {
  it('runs drain, auth and body in order and hands the authenticated request on', async () => {
    const next = jest.fn();
    const req = request();
    gate(Promise.resolve(principal), (_req, _res, done) => done()).use(req, {} as Response, next);
    await new Promise(setImmediate);
    expect(next).toHaveBeenCalledTimes(1);
    expect(next).toHaveBeenCalledWith();
    expect((req as { principal?: unknown }).principal).toBe(principal);
  });

  it.each([
    ['a root secret (answered at once)', principal],
    ['an operator token (answered after a lookup)', Promise.resolve(principal)],
  ])('hands a later middleware’s synchronous throw to next after %s, never to an unhandled rejection', async (_, authenticated) => {
    const failure = new Error('body reader broke');
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const next = jest.fn();
      const run = () =>
        gate(authenticated, () => {
          throw failure;
        }).use(request(), {} as Response, next);
      // At once, the throw reaches the platform's own try/catch around the middleware; after the lookup, next.
      if (authenticated instanceof Promise) run();
      else expect(run).toThrow(failure);
      await new Promise(setImmediate);
      await new Promise(setImmediate);
      if (authenticated instanceof Promise) expect(next.mock.calls).toEqual([[failure]]);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
