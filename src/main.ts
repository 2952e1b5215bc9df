// First: tracing patches the libraries below as they load, so it must start before any of them is required.
import './tracing/start';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig, missingAdminConfig } from './config/app-config';
import { shutdownOnSignals } from './shutdown';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  shutdownOnSignals(app, config.shutdownGraceMs);
  await app.listen(config.port, config.host);
  const logger = new Logger('Main');
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log({ msg: `Credits admin gateway listening on http://${config.host}:${port}/graphql`, port });
  const missing = missingAdminConfig(config);
  if (missing.length > 0) logger.warn(`${missing.join(', ')} not set: every admin operation answers 503 admin_unconfigured`);
}

void main();
