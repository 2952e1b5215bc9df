import { GatewayError } from '../common/errors';
import { failureOf } from '../common/testing/failure-of';
import { loadConfig } from '../config/app-config';
import { AdminAuthenticator, bearerToken } from './admin-authenticator';
import { PREVIOUS_ROOT_PRINCIPAL, ROOT_PRINCIPAL } from './principal';

const CURRENT = 'current-secret-0123456789abcdef';
const PREVIOUS = 'previous-secret-0123456789abcde';

function authenticator(env: Record<string, string> = {}): AdminAuthenticator {
  return new AdminAuthenticator(loadConfig({ ADMIN_SECRET: CURRENT, REVENUECAT_API_KEY: 'sk_x', REVENUECAT_PROJECT_ID: 'proj', ...env }));
}

const failure = (run: () => unknown) => failureOf(GatewayError, run);

describe('AdminAuthenticator', () => {
  it('accepts the current secret and labels it', () => {
    expect(authenticator().authenticate(`Bearer ${CURRENT}`)).toEqual(ROOT_PRINCIPAL);
  });

  it('accepts the previous secret during a rotation, with its own label', () => {
    const auth = authenticator({ ADMIN_SECRET_PREVIOUS: PREVIOUS });
    expect(auth.authenticate(`Bearer ${PREVIOUS}`)).toEqual(PREVIOUS_ROOT_PRINCIPAL);
    expect(auth.authenticate(`bearer ${CURRENT}`)).toEqual(ROOT_PRINCIPAL);
  });

  it('answers 503 admin_unconfigured before looking at the header, naming only the missing variables', () => {
    const auth = new AdminAuthenticator(loadConfig({ REVENUECAT_API_KEY: 'sk_secret_value' }));
    const error = failure(() => auth.authenticate(undefined));
    expect(error.code).toBe('admin_unconfigured');
    expect(error.status).toBe(503);
    expect(error.message).toBe('admin_unconfigured: ADMIN_SECRET, REVENUECAT_PROJECT_ID not set on the server');
    expect(error.message).not.toContain('sk_secret_value');
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', `Basic ${CURRENT}`, CURRENT, `Token ${CURRENT}`])('answers 401 missing_bearer for %p', (header) => {
    const error = failure(() => authenticator().authenticate(header));
    expect([error.code, error.status]).toEqual(['missing_bearer', 401]);
  });

  it.each(['wrong', `${CURRENT}x`, CURRENT.slice(0, -1), PREVIOUS])('answers 403 invalid_admin_secret for %p', (token) => {
    const error = failure(() => authenticator().authenticate(`Bearer ${token}`));
    expect([error.code, error.status]).toEqual(['invalid_admin_secret', 403]);
    expect(error.message).not.toContain(token);
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('  bearer   abc  ')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
  });
});
