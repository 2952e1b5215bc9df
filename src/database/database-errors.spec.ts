import { DrizzleQueryError } from 'drizzle-orm';
import { DatabaseError } from 'pg';
import { isDatabaseUnavailable, SessionRefusedError } from './database-errors';

/** A server error as node-postgres reports it. */
function serverError(code: string, message = 'server says no', extra: Partial<DatabaseError> = {}): DatabaseError {
  return Object.assign(new DatabaseError(message, 0, 'error'), { code, ...extra });
}

/** As drizzle wraps it: the statement, its parameters, the driver's error as the cause. */
function failedQuery(query: string, params: unknown[], cause: unknown): DrizzleQueryError {
  return new DrizzleQueryError(query, params, cause as Error);
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['08006', 'connection failure'],
    ['08001', 'cannot establish a connection'],
    ['28P01', 'password authentication failed'],
    ['28000', 'no pg_hba.conf entry'],
    ['3D000', 'the database was dropped'],
    ['53300', 'too many connections'],
    ['57P01', 'administrator ended the session'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'the server is starting up'],
    ['57014', 'statement timeout'],
  ])('maps SQLSTATE %s (%s) to unavailable, also through drizzle', (code) => {
    expect(isDatabaseUnavailable(serverError(code))).toBe(true);
    expect(isDatabaseUnavailable(failedQuery('select 1', [], serverError(code)))).toBe(true);
  });

  it('maps any refusal to open a session, 55000 for ALLOW_CONNECTIONS false included', () => {
    const refused = new SessionRefusedError(serverError('55000', 'database "x" is not currently accepting connections'));
    expect(refused.code).toBe('55000');
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(failedQuery('select 1', [], refused))).toBe(true);
  });

  it.each(['23505', '42703', '42P01', '55000', '22P02'])('leaves SQLSTATE %s of a statement a failure of ours (not unavailable)', (code) => {
    expect(isDatabaseUnavailable(failedQuery('insert into "adjustments" ("id") values ($1)', ['x'], serverError(code)))).toBe(false);
  });
});
