import { EMULATOR_DEFAULT_API_KEY, EMULATOR_DEFAULT_PROJECT_ID, RevenueCatEmulator, RevenueCatEmulatorOptions } from './revenuecat-emulator';

interface StandaloneConfig {
  port: number;
  host: string;
  options: RevenueCatEmulatorOptions;
}

function readConfig(env: NodeJS.ProcessEnv): StandaloneConfig {
  const rawPort = env.EMULATOR_PORT ?? '4010';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number from 0 to 65535, got "${rawPort}"`);
  }
  const rateLimits = env.EMULATOR_RATE_LIMITS;
  if (rateLimits !== undefined && rateLimits !== '' && rateLimits !== 'off' && rateLimits !== 'on') {
    throw new Error(`EMULATOR_RATE_LIMITS must be "off" or "on", got "${rateLimits}"`);
  }
  const off = rateLimits === 'off';
  return {
    port,
    host: env.EMULATOR_HOST || '127.0.0.1',
    options: {
      apiKey: env.EMULATOR_API_KEY || EMULATOR_DEFAULT_API_KEY,
      projectId: env.EMULATOR_PROJECT_ID || EMULATOR_DEFAULT_PROJECT_ID,
      rateLimits: off ? { project_configuration: Infinity, customer_information: Infinity, virtual_currencies_create_transaction: Infinity } : undefined,
    },
  };
}

async function main(): Promise<void> {
  let config: StandaloneConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  const emulator = new RevenueCatEmulator(config.options);
  const baseUrl = await emulator.listen(config.port, config.host);
  console.log(`RevenueCat emulator listening at ${baseUrl}`);
  console.log(`Project id: ${emulator.projectId}`);
  // The default key is a published fake, so printing it is what lets a newcomer connect; a custom one stays private.
  console.log(
    emulator.apiKey === EMULATOR_DEFAULT_API_KEY
      ? `API key: ${EMULATOR_DEFAULT_API_KEY} (the default emulator key; fake, not a RevenueCat secret)`
      : 'API key: the value of EMULATOR_API_KEY (not printed)',
  );
  console.log(`Rate limits: ${config.options.rateLimits ? 'off' : 'RevenueCat defaults (60/480/480 per minute)'}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, closing the emulator`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`The emulator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
