import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { createValidationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/app-config';

/** The app as production runs it; tests build theirs from AppModule and pass it through configureApp. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), { bufferLogs: true });
  return configureApp(app);
}

export function configureApp<T extends INestApplication>(app: T): T {
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  return app;
}
