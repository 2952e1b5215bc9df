import { DrizzleQueryError } from 'drizzle-orm';
import { runInNewContext } from 'node:vm';
import { DatabaseError } from 'pg';
import { DatabaseQueryError, DatabaseUnavailableError, isDatabaseUnavailable, SessionRefusedError, statementLabel, whileAvailable } from './database-errors';

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
    ['25006', 'a read-only server (a standby after a failover)'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
  ])('maps SQLSTATE %s (%s) to unavailable, also through drizzle', (code) => {
    expect(isDatabaseUnavailable(serverError(code))).toBe(true);
    expect(isDatabaseUnavailable(failedQuery('select 1', [], serverError(code)))).toBe(true);
  });

  it.each([
    ['an errno', `Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })`],
    ['a message', `new Error('Client has encountered a connection error and is not queryable')`],
    ['a SQLSTATE', `Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })`],
  ])('recognises %s on an error made in another realm (under jest, a socket error from Node itself)', (_kind, source) => {
    const cause: unknown = runInNewContext(source);
    expect(cause instanceof Error).toBe(false);
    // As drizzle reports a rollback that failed on a connection the server ended.
    expect(isDatabaseUnavailable(failedQuery('rollback', [], cause))).toBe(true);
  });

  it('maps any refusal to open a session, 55000 for ALLOW_CONNECTIONS false included', () => {
    const refused = new SessionRefusedError(serverError('55000', 'database "x" is not currently accepting connections'));
    expect(refused.code).toBe('55000');
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(failedQuery('select 1', [], refused))).toBe(true);
  });

  it.each(['23505', '42703', '42P01', '55000', '22P02', '25P02', '40002', '40003'])('leaves SQLSTATE %s of a statement a failure of ours (not unavailable)', (code) => {
    expect(isDatabaseUnavailable(failedQuery('insert into "adjustments" ("id") values ($1)', ['x'], serverError(code)))).toBe(false);
  });
});

describe('whileAvailable', () => {
  const secret = 'cgo_hash_0123456789abcdef';
  const statement = 'select "id", "name" from "operators" where "operators"."token_hash" = $1';

  it('answers an unavailable database as DatabaseUnavailableError whose cause carries no parameters', async () => {
    const attempt = whileAvailable(() => Promise.reject(failedQuery(statement, [secret], new SessionRefusedError(serverError('28P01')))));
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as DatabaseUnavailableError).extensions).toMatchObject({ code: 'dependency_unavailable', status: 503 });
    expect(String((error as Error).cause)).toContain('select from "operators" failed: SQLSTATE 28P01');
    expect(JSON.stringify(error, Object.getOwnPropertyNames((error as Error).cause))).not.toContain(secret);
  });

  it('answers a refused statement with its name and SQLSTATE, never its parameters or the key values of `detail`', async () => {
    const refused = serverError('23505', 'duplicate key value violates unique constraint "adjustments_idempotency_key"', {
      constraint: 'adjustments_idempotency_key',
      detail: `Key (idempotency_key)=(${secret}) already exists.`,
    });
    const error = await whileAvailable(() => Promise.reject(failedQuery('insert into "adjustments" ("id", "reason") values ($1, $2)', ['adj_1', secret], refused))).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatabaseQueryError);
    expect(error).toMatchObject({ code: '23505', constraint: 'adjustments_idempotency_key', statement: 'insert into "adjustments"' });
    expect((error as Error).message).toBe('insert into "adjustments" failed: SQLSTATE 23505 (constraint adjustments_idempotency_key)');
    expect((error as Error).cause).toBeUndefined();
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message, stack: (error as Error).stack })).not.toContain(secret);
  });

  it('passes our own errors through untouched', async () => {
    const ours = new TypeError('a bug of ours');
    await expect(whileAvailable(() => Promise.reject(ours))).rejects.toBe(ours);
  });
});

describe('statementLabel', () => {
  it.each([
    ['select "id" from "operators" where "token_hash" = $1', 'select from "operators"'],
    ['insert into "gw"."adjustments" ("id") values ($1)', 'insert into "gw"."adjustments"'],
    ['update "adjustments" set "status" = $1 where "id" = $2', 'update "adjustments"'],
    ['delete from "bulk_items" where "id" = $1', 'delete from "bulk_items"'],
    ['select pg_advisory_xact_lock($1)', 'select'],
  ])('%s → %s', (query, label) => {
    expect(statementLabel(failedQuery(query, ['secret'], serverError('42703')))).toBe(label);
  });
});
