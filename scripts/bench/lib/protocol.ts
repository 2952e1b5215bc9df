/**
 * The messages between the benchmark (parent) and the processes it measures (children), over Node's IPC
 * channel. Children never print anything the parent needs to parse; stdout stays free for logs.
 */

/** What a child sends once it is listening. */
export interface ReadyMessage {
  type: 'ready';
  /** The port it listens on (loopback). */
  port: number;
  /** Anything else the parent needs (the emulator's base URL, key and project). */
  info?: Record<string, string>;
}

export interface StatsRequest {
  type: 'stats';
  id: number;
  /** Run a full garbage collection first (the child must run with --expose-gc). */
  gc?: boolean;
}

export interface ShutdownRequest {
  type: 'shutdown';
  id: number;
}

/** Starts the CPU profiler (node:inspector), or stops it and writes the profile to `path`. */
export interface ProfileRequest {
  type: 'profile';
  id: number;
  action: 'start' | 'stop';
  path?: string;
}

export type ParentMessage = StatsRequest | ShutdownRequest | ProfileRequest;

export interface ProcessStats {
  /** process.cpuUsage(): user and system CPU since the process started, in microseconds. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Whether a forced GC ran before the figures were taken. */
  gcForced: boolean;
  /** Child-specific figures (e.g. the gateway's open WebSocket connections and registered listeners). */
  extra?: Record<string, number>;
}

export interface StatsReply {
  type: 'stats';
  id: number;
  stats: ProcessStats;
}

export interface ShutdownReply {
  type: 'shutdown';
  id: number;
}

export interface ProfileReply {
  type: 'profile';
  id: number;
  /** Why the profiler could not start or stop; absent when it did. */
  error?: string;
}

export type ChildMessage = ReadyMessage | StatsReply | ShutdownReply | ProfileReply;
