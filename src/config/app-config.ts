import { resolve } from 'node:path';
import proxyAddr from 'proxy-addr';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The injection token of the AppConfig (ConfigModule provides it): `@Inject(APP_CONFIG) config: AppConfig`. */
export const APP_CONFIG = Symbol('AppConfig');

/** The process environment, parsed and validated once at start. Secrets are kept but never printed. */
export interface AppConfig {
  port: number;
  host: string;
  adminSecret?: string;
  adminSecretPrevious?: string;
  revenueCat: {
    apiKey?: string;
    projectId?: string;
    apiUrl: string;
    timeoutMs: number;
    maxRetries: number;
    maxBackoffMs: number;
    currencyCacheTtlMs: number;
  };
  redisUrl?: string;
  database: DatabaseConfig;
  clerkJwtKey?: string;
  idempotencyLeaseMs: number;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** How long a request body may take to arrive once its headers have. */
  requestBodyTimeoutMs: number;
  /** Which proxies to believe about the client address, with Express's `trust proxy` rules: false, true, a hop count, or addresses/subnets/names (see trustFunction). */
  trustProxy: boolean | number | string[];
  /** Requests per minute, per caller, per operation. */
  rateLimits: { currencies: number; balances: number; adjustCredits: number; reads: number; mutations: number; bulkItems: number };
  realtime: {
    maxConnectionsPerClient: number;
    connectAttemptsPerMinute: number;
    keepAliveMs: number;
  };
  /** RevenueCat transactions: one budget for every instance and caller, and the part bulk jobs may use. */
  pacing: PacingConfig;
  /** Bulk adjustment jobs: how long an instance's hold on a running job lasts without renewal. */
  bulk: { leaseMs: number };
  /** The built support console served at /console/ (CONSOLE_DIR; default: the repository's console/dist). */
  consoleDir: string;
}

export interface PacingConfig {
  transactionsPerMinute: number;
  bulkSharePercent: number;
}

/** Where the journal lives (DATABASE_URL). `schema` is the PostgreSQL schema to use (DATABASE_SCHEMA). */
export type DatabaseConfig = { kind: 'postgres'; url: string; schema?: string } | { kind: 'pglite'; dir: string } | { kind: 'pglite'; memory: true };

export const DEFAULT_DATABASE_URL = 'pglite:./data';

/** The repository's console/dist, from this file's place in src/config/ or dist/config/: the same for ts-node and `node dist/main.js`. */
export const DEFAULT_CONSOLE_DIR = resolve(__dirname, '..', '..', 'console', 'dist');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_REVENUECAT_API_URL = 'https://api.revenuecat.com/v2';

type Env = Record<string, string | undefined>;

/** The admin surface needs all three; their absence is a 503 at request time, not a start-up failure. */
export function missingAdminConfig(config: AppConfig): string[] {
  const missing: string[] = [];
  if (!config.adminSecret) missing.push('ADMIN_SECRET');
  if (!config.revenueCat.apiKey) missing.push('REVENUECAT_API_KEY');
  if (!config.revenueCat.projectId) missing.push('REVENUECAT_PROJECT_ID');
  return missing;
}

export function loadConfig(env: Env): AppConfig {
  const secret = (name: string, minLength = 1): string | undefined => {
    const value = optional(env, name);
    if (value !== undefined && value.length < minLength) {
      throw new ConfigError(name, `must be at least ${minLength} characters long`);
    }
    if (value !== undefined && /\s/.test(value)) {
      throw new ConfigError(name, 'must not contain white space');
    }
    return value;
  };
  const apiUrl = url(env, 'REVENUECAT_API_URL', ['http:', 'https:']) ?? DEFAULT_REVENUECAT_API_URL;
  const clerkJwtKey = optional(env, 'CLERK_JWT_KEY');
  if (clerkJwtKey !== undefined && !/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(clerkJwtKey.replace(/\\n/g, '\n'))) {
    throw new ConfigError('CLERK_JWT_KEY', 'must be a PEM public key (-----BEGIN PUBLIC KEY----- ...)');
  }
  const config: AppConfig = {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    adminSecret: secret('ADMIN_SECRET', 16),
    adminSecretPrevious: secret('ADMIN_SECRET_PREVIOUS', 16),
    revenueCat: {
      apiKey: secret('REVENUECAT_API_KEY'),
      projectId: optional(env, 'REVENUECAT_PROJECT_ID'),
      apiUrl: apiUrl.replace(/\/+$/, ''),
      timeoutMs: integer(env, 'REVENUECAT_TIMEOUT_MS', 5000, 50, 60000),
      maxRetries: integer(env, 'REVENUECAT_MAX_RETRIES', 2, 0, 5),
      maxBackoffMs: integer(env, 'REVENUECAT_MAX_BACKOFF_MS', 2000, 0, 30000),
      currencyCacheTtlMs: integer(env, 'CURRENCY_CACHE_TTL_SECONDS', 60, 0, 3600) * 1000,
    },
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    database: databaseConfig(env),
    clerkJwtKey: clerkJwtKey?.replace(/\\n/g, '\n'),
    idempotencyLeaseMs: integer(env, 'IDEMPOTENCY_LEASE_SECONDS', 60, 5, 3600) * 1000,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_SECONDS', 25, 0, 600) * 1000,
    requestBodyTimeoutMs: integer(env, 'REQUEST_BODY_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
    trustProxy: trustProxy(env),
    rateLimits: {
      currencies: integer(env, 'RATE_LIMIT_CURRENCIES_PER_MINUTE', 60, 1, 1_000_000),
      balances: integer(env, 'RATE_LIMIT_BALANCES_PER_MINUTE', 120, 1, 1_000_000),
      adjustCredits: integer(env, 'RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE', 30, 1, 1_000_000),
      reads: integer(env, 'RATE_LIMIT_READS_PER_MINUTE', 120, 1, 1_000_000),
      mutations: integer(env, 'RATE_LIMIT_MUTATIONS_PER_MINUTE', 30, 1, 1_000_000),
      bulkItems: integer(env, 'RATE_LIMIT_BULK_ITEMS_PER_MINUTE', 120, 1, 1_000_000),
    },
    realtime: {
      maxConnectionsPerClient: integer(env, 'WS_MAX_CONNECTIONS_PER_CLIENT', 100, 1, 1_000_000),
      connectAttemptsPerMinute: integer(env, 'WS_CONNECT_ATTEMPTS_PER_MINUTE', 120, 1, 1_000_000),
      keepAliveMs: integer(env, 'WS_KEEPALIVE_SECONDS', 12, 1, 3600) * 1000,
    },
    pacing: {
      transactionsPerMinute: integer(env, 'REVENUECAT_TRANSACTIONS_PER_MINUTE', 480, 1, 60_000),
      bulkSharePercent: integer(env, 'BULK_SHARE_PERCENT', 75, 1, 100),
    },
    bulk: { leaseMs: integer(env, 'BULK_LEASE_SECONDS', 30, 2, 600) * 1000 },
    consoleDir: resolve(optional(env, 'CONSOLE_DIR') ?? DEFAULT_CONSOLE_DIR),
  };
  if (config.revenueCat.projectId !== undefined && !/^[A-Za-z0-9_-]{1,255}$/.test(config.revenueCat.projectId)) {
    throw new ConfigError('REVENUECAT_PROJECT_ID', 'must be 1 to 255 letters, digits, "_" or "-"');
  }
  if (config.redisUrl !== undefined && config.database.kind === 'pglite') {
    throw new ConfigError('DATABASE_URL', 'is an embedded pglite: database, which one instance owns; REDIS_URL (several instances) needs a postgres:// DATABASE_URL');
  }
  if (config.adminSecretPrevious && !config.adminSecret) {
    throw new ConfigError('ADMIN_SECRET_PREVIOUS', 'is set but ADMIN_SECRET is not');
  }
  return config;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * `TRUST_PROXY` as a proxy-addr trust function, with Express's rules (which the setting was written for):
 * true trusts every hop, a number that many hops from the socket, a list those addresses and subnets.
 * HTTP (the rate-limit key) and graphql-ws (connection limits) both decide the client address with it.
 */
export function trustFunction(trust: AppConfig['trustProxy']): (address: string, hop: number) => boolean {
  if (typeof trust === 'boolean') return () => trust;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

function trustProxy(env: Env): AppConfig['trustProxy'] {
  const raw = optional(env, 'TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  try {
    proxyAddr.compile(entries);
  } catch (error) {
    throw new ConfigError(
      'TRUST_PROXY',
      `must be false, true, a hop count, or a comma-separated list of addresses, subnets, loopback, linklocal or uniquelocal (${(error as Error).message})`,
    );
  }
  return entries;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got ${value})`);
  return value;
}

/** URLs may carry credentials (redis://:password@host), so a bad one is reported without its value. */
function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  }
  return raw;
}

/** postgres:// (or postgresql://), pglite:memory or pglite:<dir>; a bad value is reported without it (it may hold a password). */
function databaseConfig(env: Env): DatabaseConfig {
  const raw = optional(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  const schema = optional(env, 'DATABASE_SCHEMA');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError('DATABASE_SCHEMA', 'must be 1 to 63 lower-case letters, digits or "_", not starting with a digit');
  }
  if (raw.startsWith('pglite:')) {
    if (schema !== undefined) throw new ConfigError('DATABASE_SCHEMA', 'applies to a postgres:// DATABASE_URL only');
    const target = raw.slice('pglite:'.length);
    if (target === 'memory') return { kind: 'pglite', memory: true };
    if (target === '' || target.startsWith('//')) {
      throw new ConfigError('DATABASE_URL', 'must be pglite:memory or pglite:<directory> (for example pglite:./data)');
    }
    return { kind: 'pglite', dir: target };
  }
  const problem = 'must be postgres://user@host:port/database, pglite:memory or pglite:<directory>';
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', problem);
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || parsed.hostname === '') {
    throw new ConfigError('DATABASE_URL', problem);
  }
  return schema === undefined ? { kind: 'postgres', url: raw } : { kind: 'postgres', url: raw, schema };
}
