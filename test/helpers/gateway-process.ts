import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_DATABASE_URL } from './postgres';
import { waitFor } from './ws-client';

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Every line the process wrote to stdout and stderr, in order. */
  output: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

const ROOT = join(__dirname, '..', '..');
const BUILT_MAIN = join(ROOT, 'dist', 'main.js');

function newestSource(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(folder, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }, 0);
}

/** `npm run build`, unless dist/main.js is newer than every file of src/. */
export function ensureBuilt(): void {
  if (existsSync(BUILT_MAIN) && statSync(BUILT_MAIN).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 180_000 });
}

/**
 * The real service in its own process: `src/main.ts` through ts-node, or with `built` the compiled
 * `dist/main.js` exactly as `npm start` runs it (call ensureBuilt first), as the tracing tests do.
 */
export async function startGatewayProcess(env: Record<string, string>, startTimeoutMs = 60_000, options: { built?: boolean } = {}): Promise<GatewayProcess> {
  const entry = options.built ? [BUILT_MAIN] : ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')];
  const child = spawn(process.execPath, entry, {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL: TEST_DATABASE_URL,
      // The connection-attempt budget is shared through Redis by every instance, and other suites open
      // hundreds of loopback connections a minute: lifted, as startApp lifts it.
      WS_CONNECT_ATTEMPTS_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines.filter((line) => line.length > 0));
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let port: number | undefined;
  try {
    await waitFor(
      () => {
        for (const line of output) {
          const parsed = tryParse(line);
          if (typeof parsed?.port === 'number') port = parsed.port;
        }
        return port !== undefined || child.exitCode !== null;
      },
      startTimeoutMs,
      'the gateway process to listen',
    );
  } catch (error) {
    // Left running, it would keep jest from ever exiting.
    child.kill('SIGKILL');
    throw error;
  }
  if (port === undefined) {
    throw Object.assign(new Error(`the gateway exited early:\n${output.join('\n')}`), { exitCode: await exited, output });
  }
  return { child, url: `http://127.0.0.1:${port}`, output, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

export function tryParse(line: string): Record<string, any> | undefined {
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch {
    return undefined;
  }
}
