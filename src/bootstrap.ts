import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { stampRequestIds } from './common/response-request-id';
import type { AppConfig } from './config/app-config';

/** Nest's own JSON parser is off: /graphql has a bounded one of its own, after authentication. */
export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/** The app as production runs it; tests build theirs from AppModule and pass it through configureApp. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), APP_OPTIONS);
  return configureApp(app, config);
}

/** What can only be set on the app instance: its logger and Express settings. Pipe and filter are AppModule's. */
export function configureApp<T extends INestApplication>(app: T, config: AppConfig): T {
  app.useLogger(app.get(Logger));
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // No ETag: Express would hash every answer to make one, and nothing here is cached (GraphQL answers
  // are POSTed and no-store; health and metrics are no-store).
  express.set('etag', false);
  express.set('trust proxy', config.trustProxy);
  // Every error body carries the request id, Apollo's own included.
  stampRequestIds(express.response);
  return app;
}
