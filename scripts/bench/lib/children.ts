/**
 * The parent half: spawns a measured server in its own process (so the load generator's CPU and memory
 * never mix with the figures), waits for it to listen, asks it for CPU and memory figures, and makes sure
 * no child outlives the benchmark whatever way it ends.
 */
import { ChildProcess, spawn } from 'node:child_process';
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
  const proc = spawn(
    globalThis.process.execPath,
    [...(options.nodeFlags ?? []), '-r', 'ts-node/register/transpile-only', join(options.root ?? REPO_ROOT, options.script)],
    {
      cwd: options.root ?? REPO_ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
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
