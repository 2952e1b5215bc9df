import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tryParse } from './helpers/gateway-process';
import { ADMIN_SECRET } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

const ROOT = join(__dirname, '..');

interface DemoProcess {
  child: ChildProcess;
  /** The pid of the process serving the gateway (the demo's own, or npm's grandchild). */
  gatewayPid: number;
  url: string;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run demo`, or the demo script itself as npm runs it, on a port of its own. */
async function startDemo(how: 'script' | 'npm'): Promise<DemoProcess> {
  const [command, args] =
    how === 'npm' ? ['npm', ['run', '--silent', 'demo']] : [process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'scripts', 'demo.ts')]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ADMIN_SECRET, SHUTDOWN_GRACE_SECONDS: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let url: string | undefined;
  let gatewayPid: number | undefined;
  await waitFor(
    () => {
      url ??= output.map((line) => /GraphQL \(HTTP and graphql-ws\):\s+(http:\/\/\S+)\/graphql/.exec(line)?.[1]).find(Boolean);
      gatewayPid ??= output.map((line) => tryParse(line)?.pid as number | undefined).find((pid) => typeof pid === 'number');
      return (url !== undefined && gatewayPid !== undefined) || child.exitCode !== null;
    },
    60_000,
    'the demo to print its URL',
  );
  if (url === undefined || gatewayPid === undefined) throw new Error(`the demo exited early:\n${output.join('\n')}`);
  gatewayPids.push(gatewayPid);
  return { child, gatewayPid, url, output, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
  ]);
}

const started: ChildProcess[] = [];
const gatewayPids: number[] = [];

/** A signal to the demo, with a graphql-ws subscriber connected: it shuts down as the service does. */
async function signalWithSubscriber(how: 'script' | 'npm', signal: NodeJS.Signals): Promise<void> {
  const demo = await startDemo(how);
  const ws = connectWs(demo.url, `Bearer ${ADMIN_SECRET}`);
  subscribe(ws, 'subscription { usageChanged { id } }');
  await ws.connected;

  demo.child.kill(signal);

  expect(await within(ws.closed, 15_000, 'the subscriber to be closed')).toEqual({ code: 1001, reason: 'Going away' });
  expect(await within(demo.exited, 15_000, `the ${how === 'npm' ? 'npm' : 'demo'} process to exit`)).toEqual({ code: 0, signal: null });
  // Nothing left behind: not the gateway's process, not its port.
  await waitFor(() => !alive(demo.gatewayPid), 5000, 'the gateway process to be gone');
  expect(await listening(demo.url)).toBe(false);
  expect(demo.output.some((line) => tryParse(line)?.context === 'Shutdown' && tryParse(line)?.msg === 'stopped')).toBe(true);
}

describe('the demo stops as the service does', () => {
  afterAll(() => {
    // A demo that did not stop must not outlive the run.
    for (const child of started) child.kill('SIGKILL');
    for (const pid of gatewayPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('on SIGTERM with a graphql-ws client connected: 1001 to the client, exit 0, port closed', async () => {
    await signalWithSubscriber('script', 'SIGTERM');
  }, 90_000);

  it('on SIGINT (Ctrl-C) with a graphql-ws client connected: 1001 to the client, exit 0, port closed', async () => {
    await signalWithSubscriber('script', 'SIGINT');
  }, 90_000);

  it('on SIGTERM to `npm run demo`: the gateway gets it and stops, and npm exits 0 with no child left', async () => {
    await signalWithSubscriber('npm', 'SIGTERM');
  }, 90_000);
});
