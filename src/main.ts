import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig, missingAdminConfig } from './config/app-config';

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
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const logger = new Logger('Main');
  logger.log(`Credits admin gateway listening on ${await app.getUrl()}/graphql`);
  const missing = missingAdminConfig(config);
  if (missing.length > 0) logger.warn(`${missing.join(', ')} not set: every admin operation answers 503 admin_unconfigured`);
}

void main();
