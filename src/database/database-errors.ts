import { GatewayError } from '../common/errors';

/**
 * The database did not answer (down, unreachable, too slow, shutting down): nothing was changed by the
 * failed statement, and the caller may retry. The API answers it as 503 `dependency_unavailable`.
 * `message` never carries the connection URL or the statement's parameters.
 */
export class DatabaseUnavailableError extends GatewayError {
  constructor(
    readonly detail = 'the database does not answer',
    override readonly cause?: unknown,
  ) {
    super('dependency_unavailable', 'dependency_unavailable: the database does not answer; nothing was changed; retry', {
      dependency: 'database',
    });
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs meaning the database cannot be used right now, whatever the statement: classes 08 connection,
 * 28 login refused, 3D database gone, 53 resources, 57 operator intervention (57014 a statement timeout),
 * 58 system; and 25006 (a read-only standby after a failover), 40001 and 40P01, which roll back everything
 * they touched so that a retry may succeed. Not 40003: whether the commit happened is unknown.
 */
const UNAVAILABLE_SQLSTATE = /^(08|28|3D|53|57|58)|^(25006|40001|40P01)$/;
/** What node-postgres and pg-pool throw without a SQLSTATE when the connection fails or times out. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Cannot use a pool after calling end|connection is closed|PGlite is closed/i;

/**
 * PostgreSQL refused to open a session (ALLOW_CONNECTIONS false is 55000, a server starting 57P03, a
 * dropped database 3D000, a refused login 28P01, ...): whatever the SQLSTATE, the database cannot be
 * used. Thrown by the pool's clients in place of the driver's error, so the statement that needed the
 * session is told apart from one the server refused.
 */
export class SessionRefusedError extends Error {
  readonly code?: string;

  constructor(override readonly cause: unknown) {
    const { code } = databaseErrorDetails(cause);
    super(`PostgreSQL did not open a session${code ? `: SQLSTATE ${code}` : ''} (${(cause as Error)?.message ?? String(cause)})`);
    this.name = 'SessionRefusedError';
    this.code = code;
  }
}

/**
 * Whether an error (or one it wraps: drizzle wraps driver errors in DrizzleQueryError) means the database
 * is unavailable, as opposed to a statement it refused (a constraint, a syntax error), which is a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; isObject(current) && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof DatabaseUnavailableError || current instanceof SessionRefusedError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}

/**
 * Not `instanceof Object`/`Error`: an error made in another realm fails those (under jest, whose tests run
 * in a vm context, a socket error from Node itself), and it is read by its fields alone.
 */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The SQLSTATE and constraint of a statement the server refused, looking through drizzle's wrapper. */
export function databaseErrorDetails(error: unknown): { code?: string; constraint?: string } {
  for (let current = error, depth = 0; isObject(current) && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, constraint } = current as { code?: unknown; constraint?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return { code, constraint: typeof constraint === 'string' ? constraint : undefined };
    }
  }
  return {};
}

/**
 * A statement the database refused for a reason other than availability (a bug, or a schema that does
 * not match). Its message names the statement and its SQLSTATE only: drizzle's own error lists the
 * statement's parameters (token hashes, user ids, reasons) and the server's `detail` quotes key values,
 * and neither belongs in a log line.
 */
export class DatabaseQueryError extends Error {
  constructor(
    readonly statement: string,
    readonly code: string | undefined,
    readonly constraint: string | undefined,
  ) {
    super(`${statement} failed: SQLSTATE ${code ?? 'unknown'}${constraint ? ` (constraint ${constraint})` : ''}`);
    this.name = 'DatabaseQueryError';
  }
}

/** A short label of a statement: its verb and first table (`insert into "adjustments"`), never its values. */
export function statementLabel(error: unknown): string {
  for (let current = error, depth = 0; isObject(current) && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const query = (current as { query?: unknown }).query;
    if (typeof query !== 'string') continue;
    const verb = /^\s*([A-Za-z]+)/.exec(query)?.[1]?.toLowerCase() ?? 'statement';
    const table = /\b(?:from|into|update|join)\s+((?:"[^"]{1,63}"|[A-Za-z_][\w$]{0,62})(?:\.(?:"[^"]{1,63}"|[A-Za-z_][\w$]{0,62}))?)/i.exec(query)?.[1];
    if (!table) return verb;
    return verb === 'insert' ? `insert into ${table}` : verb === 'update' ? `update ${table}` : `${verb} from ${table}`;
  }
  return 'statement';
}

/** What a database failure may carry into a log line: no parameters, no key values from `detail`. */
function sanitized(error: unknown): Error {
  const { code, constraint } = databaseErrorDetails(error);
  return new DatabaseQueryError(statementLabel(error), code, constraint);
}

/** Whether an error came from the database (drizzle's wrapper, or a driver error with a SQLSTATE), not from our own code. */
function isDatabaseError(error: unknown): boolean {
  if (error instanceof DatabaseQueryError) return false;
  if (error instanceof Error && typeof (error as { query?: unknown }).query === 'string' && 'params' in error) return true;
  return databaseErrorDetails(error).code !== undefined;
}

/**
 * Runs one database operation: an unavailable database becomes a DatabaseUnavailableError, a statement the
 * database refused a DatabaseQueryError (name and SQLSTATE, no parameters), anything else is rethrown.
 */
export async function whileAvailable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error;
    if (isDatabaseUnavailable(error)) throw new DatabaseUnavailableError(undefined, isDatabaseError(error) ? sanitized(error) : error);
    if (isDatabaseError(error)) throw sanitized(error);
    throw error;
  }
}
