/**
 * The parent half: spawns a measured server in its own process (so the load generator's CPU and memory
 * never mix with the figures), waits for it to listen, asks it for CPU and memory figures, and makes sure
 * no child outlives the benchmark whatever way it ends.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMessage, ProcessStats, ReadyMessage } from './protocol';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Kills every child still running (on failure or interruption). */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface StartOptions {
  /** A label for messages and the report. */
  name: string;
  /** The TypeScript entry, relative to the repository root (or to `root`). */
  script: string;
  /** Another checkout to run the script from (a baseline commit's snapshot); default this repository. */
  root?: string;
  env: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. --expose-gc or --cpu-prof. */
  nodeFlags?: string[];
  startTimeoutMs?: number;
  /** Print the child's stdout and stderr as they come. */
  verbose?: boolean;
  /** Run the TypeScript under ts-node instead of compiled (see compiledTree). */
  fromSource?: boolean;
}

/** Where each tree was compiled to, once per run. */
const builds = new Map<string, string>();

/**
 * The tree at `root` compiled by the project's tsc, so a child runs as `npm start` does: ts-node loads
 * Node's `domain`, which puts every EventEmitter on a slower path production never takes. The build sits
 * inside the tree (packages resolve as the sources' do), with the SQL migrations copied as `nest build`
 * does, in `.bench-build/run-<pid>`, so two runs at once never delete each other's; a killed run's is
 * removed by the next.
 */
export function compiledTree(root: string): string {
  let out = builds.get(root);
  if (out) return out;
  const parent = join(root, '.bench-build');
  removeAbandonedBuilds(parent);
  out = join(parent, `run-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const built = out;
  process.once('exit', () => rmSync(built, { recursive: true, force: true }));
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', out, '--rootDir', root, '--sourceMap', 'false', '--incremental', 'false'],
    { cwd: root, encoding: 'utf8' },
  );
  // tsc writes its JavaScript even past a type error; only a missing entry point stops the run.
  if (!existsSync(join(out, 'scripts', 'bench', 'serve-gateway.js'))) {
    throw new Error(`could not compile ${root} for the benchmark (tsc exit ${tsc.status}):\n${(tsc.stdout + tsc.stderr).slice(0, 2_000)}`);
  }
  const migrations = join(root, 'src', 'database', 'migrations');
  if (existsSync(migrations)) cpSync(migrations, join(out, 'src', 'database', 'migrations'), { recursive: true });
  builds.set(root, out);
  return out;
}

/** Removes the builds of runs whose process is gone (killed before its exit hook ran). */
function removeAbandonedBuilds(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || !processGone(Number(pid))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (message: ChildMessage) => void; reject: (error: Error) => void }>();
  private output = '';
  private exited = false;
  readonly exitedPromise: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly process: ChildProcess,
    verbose: boolean,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8_000);
      if (verbose) globalThis.process.stderr.write(`[${name}] ${chunk.toString()}`);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    process.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      waiter.resolve(message);
    });
    this.exitedPromise = new Promise((resolve) => {
      process.once('exit', (code) => {
        this.exited = true;
        live.delete(process);
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (code ${code}) ${this.tail()}`));
        this.pending.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The last lines the child printed, for error messages. */
  tail(): string {
    const text = this.output.trim();
    return text ? `; its last output:\n${text.split('\n').slice(-20).join('\n')}` : '';
  }

  private request(
    message: { type: 'stats'; gc?: boolean } | { type: 'shutdown' } | { type: 'profile'; action: 'start' | 'stop'; path?: string },
    timeoutMs: number,
  ): Promise<ChildMessage> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running${this.tail()}`));
    const id = this.nextId++;
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer "${message.type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ ...message, id });
    });
  }

  async stats(gc = false): Promise<ProcessStats> {
    const reply = await this.request({ type: 'stats', gc }, 30_000);
    if (reply.type !== 'stats') throw new Error(`${this.name} answered ${reply.type} to stats`);
    return reply.stats;
  }

  /** Starts the child's CPU profiler (node:inspector, in process). */
  async startProfile(): Promise<void> {
    const reply = await this.request({ type: 'profile', action: 'start' }, 30_000);
    if (reply.type !== 'profile' || reply.error) throw new Error(`${this.name} could not start profiling: ${reply.type === 'profile' ? reply.error : reply.type}`);
  }

  /** Stops the child's CPU profiler and has it write the profile (a .cpuprofile) to `path`. */
  async stopProfile(path: string): Promise<void> {
    const reply = await this.request({ type: 'profile', action: 'stop', path }, 60_000);
    if (reply.type !== 'profile' || reply.error) throw new Error(`${this.name} could not write its profile: ${reply.type === 'profile' ? reply.error : reply.type}`);
  }

  /** Asks the child to close its server and exit (writing any --cpu-prof profile); kills it if it hangs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exited) return;
    const killer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    try {
      await this.request({ type: 'shutdown' }, timeoutMs).catch(() => undefined);
      await this.exitedPromise;
    } finally {
      clearTimeout(killer);
    }
  }
}

export async function startChild(options: StartOptions): Promise<{ child: Child; ready: ReadyMessage }> {
  installExitHook();
  const root = options.root ?? REPO_ROOT;
  const entry = options.fromSource
    ? ['-r', 'ts-node/register/transpile-only', join(root, options.script)]
    : [join(compiledTree(root), options.script.replace(/\.ts$/, '.js'))];
  const proc = spawn(globalThis.process.execPath, [...(options.nodeFlags ?? []), ...entry], {
    cwd: options.root ?? REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(proc);
  const child = new Child(options.name, proc, options.verbose === true);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${options.name} did not start within ${timeoutMs} ms${child.tail()}`));
    }, timeoutMs);
    proc.on('message', (message: ChildMessage) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void child.exitedPromise.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with code ${code} before it was ready${child.tail()}`));
    });
  });
  return { child, ready };
}
