import { ConfigError, DEFAULT_DATABASE_URL, DEFAULT_REVENUECAT_API_URL, loadConfig, missingAdminConfig } from './app-config';

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.revenueCat.apiUrl).toBe(DEFAULT_REVENUECAT_API_URL);
    expect(config.requestBodyTimeoutMs).toBe(10_000);
    expect(config.redisUrl).toBeUndefined();
    expect(missingAdminConfig(config)).toEqual(['ADMIN_SECRET', 'REVENUECAT_API_KEY', 'REVENUECAT_PROJECT_ID']);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      ADMIN_SECRET: 'a'.repeat(32),
      ADMIN_SECRET_PREVIOUS: 'b'.repeat(32),
      REVENUECAT_API_KEY: 'sk_live_x',
      REVENUECAT_PROJECT_ID: 'proj1ab2c3d4',
      REVENUECAT_API_URL: 'http://127.0.0.1:4010/v2/',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      DATABASE_URL: 'postgres://gateway:pw@db.internal:5432/credits',
      DATABASE_SCHEMA: 'gateway_v2',
    });
    expect(config.port).toBe(8080);
    expect(config.revenueCat.apiUrl).toBe('http://127.0.0.1:4010/v2');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://gateway:pw@db.internal:5432/credits', schema: 'gateway_v2' });
    expect(missingAdminConfig(config)).toEqual([]);
  });

  it.each([
    ['PORT', 'eighty', /^PORT must be a whole number from 0 to 65535/],
    ['PORT', '70000', /^PORT must be a whole number/],
    ['REVENUECAT_API_URL', 'ftp://example.test', /^REVENUECAT_API_URL must use http: or https:/],
    ['REVENUECAT_TIMEOUT_MS', '-5', /^REVENUECAT_TIMEOUT_MS must be a whole number/],
    ['REVENUECAT_PROJECT_ID', 'proj/../x', /^REVENUECAT_PROJECT_ID must be 1 to 255/],
    ['CLERK_JWT_KEY', 'not a pem', /^CLERK_JWT_KEY must be a PEM public key/],
    ['DATABASE_URL', 'mysql://root@127.0.0.1/credits', /^DATABASE_URL must be postgres:\/\/user@host:port\/database, pglite:memory or pglite:<directory>/],
    ['DATABASE_URL', './data', /^DATABASE_URL must be postgres:\/\//],
    ['DATABASE_URL', 'postgres://', /^DATABASE_URL must be postgres:\/\//],
    ['DATABASE_URL', 'pglite:', /^DATABASE_URL must be pglite:memory or pglite:<directory>/],
    ['DATABASE_SCHEMA', 'Robert"; drop', /^DATABASE_SCHEMA must be 1 to 63 lower-case letters/],
    ['REQUEST_BODY_TIMEOUT_SECONDS', '0', /^REQUEST_BODY_TIMEOUT_SECONDS must be a whole number from 1 to 300/],
  ])('stops on a bad %s with a message naming it', (variable, value, message) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(message);
  });

  it('never repeats a secret or a URL that may carry credentials in its message', () => {
    const leaks: Array<[string, string]> = [
      ['ADMIN_SECRET', 'short-secret'],
      ['REDIS_URL', 'http://user:hunter2-password@redis.internal'],
      ['REDIS_URL', 'not a url with hunter2-password'],
      ['DATABASE_URL', 'mysql://root:hunter2-password@db.internal/credits'],
      ['DATABASE_URL', 'postgres//gateway:hunter2-password@db.internal'],
    ];
    for (const [variable, value] of leaks) {
      let message = '';
      try {
        loadConfig({ [variable]: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message.startsWith(variable)).toBe(true);
      expect(message).not.toContain(value);
      expect(message).not.toContain('hunter2');
    }
  });

  describe('DATABASE_URL', () => {
    it('defaults to the embedded engine persisted in ./data', () => {
      expect(loadConfig({}).database).toEqual({ kind: 'pglite', dir: './data' });
      expect(DEFAULT_DATABASE_URL).toBe('pglite:./data');
    });

    it.each([
      ['postgres://postgres@127.0.0.1:5432/test', { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' }],
      ['postgresql://u:p@db:6543/x?sslmode=require', { kind: 'postgres', url: 'postgresql://u:p@db:6543/x?sslmode=require' }],
      ['pglite:memory', { kind: 'pglite', memory: true }],
      ['pglite:/var/lib/credits', { kind: 'pglite', dir: '/var/lib/credits' }],
      ['pglite:./data', { kind: 'pglite', dir: './data' }],
      ['  pglite:memory  ', { kind: 'pglite', memory: true }],
    ])('reads %s', (value, expected) => {
      expect(loadConfig({ DATABASE_URL: value }).database).toEqual(expected);
    });

    it.each([undefined, 'pglite:memory', 'pglite:./data'])('refuses REDIS_URL (several instances) with the embedded database %s', (databaseUrl) => {
      const env = { REDIS_URL: 'redis://:hunter2-password@127.0.0.1:6379', DATABASE_URL: databaseUrl };
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/^DATABASE_URL is an embedded pglite: database.*REDIS_URL.*needs a postgres:\/\/ DATABASE_URL$/);
      expect(() => loadConfig(env)).not.toThrow(/hunter2/);
    });

    it('accepts REDIS_URL with PostgreSQL', () => {
      const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
      expect(config.database.kind).toBe('postgres');
    });

    it('refuses DATABASE_SCHEMA with the embedded database (it has one schema of its own)', () => {
      expect(() => loadConfig({ DATABASE_URL: 'pglite:memory', DATABASE_SCHEMA: 'x' })).toThrow(/^DATABASE_SCHEMA applies to a postgres:\/\/ DATABASE_URL only$/);
    });
  });

  it('refuses a previous admin secret without a current one', () => {
    expect(() => loadConfig({ ADMIN_SECRET_PREVIOUS: 'p'.repeat(20) })).toThrow(/^ADMIN_SECRET_PREVIOUS is set but ADMIN_SECRET is not/);
  });

  it('limits the version 2 mutations (reverseAdjustment) to 30 a minute unless RATE_LIMIT_MUTATIONS_PER_MINUTE says otherwise', () => {
    expect(loadConfig({}).rateLimits.mutations).toBe(30);
    expect(loadConfig({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '45' }).rateLimits.mutations).toBe(45);
    expect(() => loadConfig({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' })).toThrow(/^RATE_LIMIT_MUTATIONS_PER_MINUTE must be a whole number from 1/);
  });

  describe('RevenueCat transaction pacing', () => {
    it("defaults to RevenueCat's 480 a minute, 75% of it for bulk jobs", () => {
      expect(loadConfig({}).pacing).toEqual({ transactionsPerMinute: 480, bulkSharePercent: 75 });
    });

    it('holds a running bulk job for 30 s between renewals unless BULK_LEASE_SECONDS says otherwise', () => {
      expect(loadConfig({}).bulk).toEqual({ leaseMs: 30_000 });
      expect(loadConfig({ BULK_LEASE_SECONDS: '3' }).bulk).toEqual({ leaseMs: 3_000 });
    });

    it('reads REVENUECAT_TRANSACTIONS_PER_MINUTE and BULK_SHARE_PERCENT', () => {
      expect(loadConfig({ REVENUECAT_TRANSACTIONS_PER_MINUTE: '600', BULK_SHARE_PERCENT: '50' }).pacing).toEqual({
        transactionsPerMinute: 600,
        bulkSharePercent: 50,
      });
    });

    it.each([
      ['REVENUECAT_TRANSACTIONS_PER_MINUTE', '0', /^REVENUECAT_TRANSACTIONS_PER_MINUTE must be a whole number from 1 to 60000 \(got 0\)/],
      ['REVENUECAT_TRANSACTIONS_PER_MINUTE', '480.5', /^REVENUECAT_TRANSACTIONS_PER_MINUTE must be a whole number/],
      ['REVENUECAT_TRANSACTIONS_PER_MINUTE', '60001', /^REVENUECAT_TRANSACTIONS_PER_MINUTE must be a whole number from 1 to 60000/],
      ['BULK_SHARE_PERCENT', '0', /^BULK_SHARE_PERCENT must be a whole number from 1 to 100 \(got 0\)/],
      ['BULK_SHARE_PERCENT', '101', /^BULK_SHARE_PERCENT must be a whole number from 1 to 100/],
      ['BULK_SHARE_PERCENT', '75%', /^BULK_SHARE_PERCENT must be a whole number/],
      ['BULK_LEASE_SECONDS', '1', /^BULK_LEASE_SECONDS must be a whole number from 2 to 600 \(got 1\)/],
    ])('stops on a bad %s (%s)', (variable, value, message) => {
      expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [variable]: value })).toThrow(message);
    });
  });
});
