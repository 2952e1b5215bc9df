import { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { APP_OPTIONS, configureApp, httpAdapter } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { RevenueCatEmulator } from '../../emulator/revenuecat-emulator';
import { GraphQLClient } from './graphql-client';
import { createTestSchema, TEST_DATABASE_URL } from './postgres';
import { redisDatabase } from './redis';

export const ADMIN_SECRET = 'test-admin-secret-0123456789abcdef';
export const PREVIOUS_ADMIN_SECRET = 'test-previous-secret-0123456789ab';

export interface TestApp {
  app: INestApplication;
  /** `app.getHttpServer()`, listening on an ephemeral port. */
  server: Server;
  /** supertest against that server: every HTTP request a test makes goes through it. */
  http: ReturnType<typeof request>;
  /** The server's base URL, for what is not plain HTTP: graphql-ws clients and raw sockets. */
  url: string;
  config: AppConfig;
  client: GraphQLClient;
  close(): Promise<void>;
}

export interface TestAppOptions {
  emulator?: RevenueCatEmulator;
  /** Environment on top of the defaults; a value of undefined removes a default. */
  env?: Record<string, string | undefined>;
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** The real app, configured through the real environment parser, listening on an ephemeral port. */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const env: Record<string, string | undefined> = {
    ADMIN_SECRET,
    REVENUECAT_API_KEY: options.emulator?.apiKey ?? 'sk_test_unused',
    REVENUECAT_PROJECT_ID: options.emulator?.projectId ?? 'proj_unused',
    REVENUECAT_API_URL: options.emulator?.baseUrl ?? 'http://127.0.0.1:9/v2',
    REVENUECAT_TIMEOUT_MS: '2000',
    REVENUECAT_MAX_BACKOFF_MS: '200',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The real PostgreSQL: the embedded default cannot go with REDIS_URL, and is too heavy to start per app.
    DATABASE_URL: TEST_DATABASE_URL,
    // Lifted so that suites about other things are not throttled; the rate-limit suite sets its own.
    RATE_LIMIT_CURRENCIES_PER_MINUTE: '100000',
    RATE_LIMIT_BALANCES_PER_MINUTE: '100000',
    RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '100000',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
    WS_MAX_CONNECTIONS_PER_CLIENT: '100000',
    WS_CONNECT_ATTEMPTS_PER_MINUTE: '100000',
    ...options.env,
  };
  // A schema of its own unless the caller shares one (two instances): runs and suites never see each
  // other's journal, and a fixed idempotency key in one test is new in the next run.
  const schema = env.DATABASE_SCHEMA === undefined && env.DATABASE_URL?.startsWith('postgres') ? await createTestSchema('app') : undefined;
  if (schema) env.DATABASE_SCHEMA = schema.name;
  const config = loadConfig(env);
  let builder = Test.createTestingModule({ imports: [AppModule.register(config)] });
  if (options.override) builder = options.override(builder);
  let moduleRef;
  try {
    moduleRef = await builder.compile();
  } catch (error) {
    await schema?.drop();
    throw error;
  }
  const app = configureApp(moduleRef.createNestApplication(httpAdapter(config), { ...APP_OPTIONS, logger: false }));
  // Listening rather than `init()` alone: graphql-ws clients need a port, and supertest uses the one it has.
  await app.listen(0, '127.0.0.1');
  const server: Server = app.getHttpServer();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    server,
    http: request(server),
    url,
    config,
    client: new GraphQLClient(server, ADMIN_SECRET),
    close: async () => {
      await app.close();
      await schema?.drop();
    },
  };
}

/**
 * A describe block's emulator and app: started before its tests, closed after them. Read `app` inside
 * tests and hooks (it is set in beforeAll).
 */
export function useEmulatorApp(options: Omit<TestAppOptions, 'emulator'> = {}): { emulator: RevenueCatEmulator; app: TestApp } {
  const handle = { emulator: new RevenueCatEmulator(), app: undefined as unknown as TestApp };
  beforeAll(async () => {
    await handle.emulator.listen();
    handle.app = await startApp({ ...options, emulator: handle.emulator });
  });
  afterAll(async () => {
    await handle.app?.close();
    await handle.emulator.close();
  });
  return handle;
}

export interface TwoInstances {
  first: TestApp;
  second: TestApp;
  /** Closes both apps and drops their schema; the emulator stays the caller's to close. */
  close(): Promise<void>;
}

/**
 * Two instances of the app as a scaled-out deployment runs them: one emulator, one Redis (this test file's
 * logical database, unless `env` names another REDIS_URL, such as a RedisProxy's), one PostgreSQL schema of their own, and the same `env` and
 * `override` for both.
 */
export async function startTwoInstancesOnRedis(options: TestAppOptions = {}): Promise<TwoInstances> {
  const schema = await createTestSchema('two_instances');
  const shared: TestAppOptions = { ...options, env: { REDIS_URL: (await redisDatabase()).url, ...options.env, DATABASE_SCHEMA: schema.name } };
  const started: TestApp[] = [];
  const close = async () => {
    for (const app of started) await app.close();
    await schema.drop();
  };
  try {
    started.push(await startApp(shared));
    started.push(await startApp(shared));
  } catch (error) {
    await close();
    throw error;
  }
  const [first, second] = started;
  return { first, second, close };
}
