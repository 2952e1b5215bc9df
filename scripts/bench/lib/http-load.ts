/**
 * HTTP load with autocannon (in this process): a warm-up run that is thrown away, then the measured run,
 * with the measured server's CPU read over IPC before and after so each figure comes with its cost.
 */
import autocannon from 'autocannon';
import { writeFileSync } from 'node:fs';
import type { Child } from './children';

export interface HttpTarget {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A fixed body, or one built per request (unique idempotency keys, random users). */
  body?: string;
  makeBody?: () => string;
}

export interface LoadSettings {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface HttpFigures {
  requestsPerSecond: number;
  totalRequests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  connections: number;
  /** CPU the measured servers spent per request, in microseconds, by server name. */
  cpuPerRequestUs: Record<string, number>;
}

function run(target: HttpTarget, durationSeconds: number, connections: number): Promise<autocannon.Result> {
  const request: autocannon.Request = { method: target.method, path: new URL(target.url).pathname };
  if (target.makeBody) {
    const makeBody = target.makeBody;
    request.setupRequest = (req) => ({ ...req, body: makeBody() });
  } else if (target.body !== undefined) {
    request.body = target.body;
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL(target.url).origin,
        connections,
        duration: durationSeconds,
        pipelining: 1,
        timeout: 10,
        headers: target.headers,
        requests: [request],
      },
      (error: Error | null, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    // A silent run: no progress bar, no table.
    instance.on('error', () => undefined);
  });
}

/**
 * `servers` are the processes whose CPU is charged to this scenario (the measured one first). With
 * `profileTo`, the measured server's CPU is profiled over the measured window only (after the warm-up,
 * started before and written after the CPU readings), into that file.
 */
export async function measureHttp(target: HttpTarget, settings: LoadSettings, servers: Child[], profileTo?: string): Promise<HttpFigures> {
  if (settings.warmupSeconds > 0) await run(target, settings.warmupSeconds, settings.connections);
  if (profileTo) await servers[0].startProfile();
  const before = await Promise.all(servers.map((server) => server.stats()));
  const result = await run(target, settings.durationSeconds, settings.connections);
  const after = await Promise.all(servers.map((server) => server.stats()));
  const total = result.requests.total;
  const cpuPerRequestUs: Record<string, number> = {};
  servers.forEach((server, i) => {
    const used = after[i].cpuUserUs + after[i].cpuSystemUs - (before[i].cpuUserUs + before[i].cpuSystemUs);
    cpuPerRequestUs[server.name] = total > 0 ? used / total : NaN;
  });
  if (profileTo) {
    await servers[0].stopProfile(profileTo);
    // What scripts/bench/profile-layers.ts divides by and scales to.
    const meta = { requests: total, durationSeconds: settings.durationSeconds, cpuPerRequestUs: cpuPerRequestUs[servers[0].name] };
    writeFileSync(profileTo.replace(/\.cpuprofile$/, '.meta.json'), JSON.stringify(meta) + '\n');
  }
  return {
    requestsPerSecond: result.requests.average,
    totalRequests: total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    latencyMaxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: settings.durationSeconds,
    connections: settings.connections,
    cpuPerRequestUs,
  };
}

/** One request before the load, so a misconfigured scenario fails loudly instead of measuring errors. */
export async function checkOnce(target: HttpTarget, expect: (status: number, body: string) => string | undefined): Promise<void> {
  const response = await fetch(target.url, {
    method: target.method,
    headers: target.headers,
    body: target.method === 'POST' ? (target.makeBody ? target.makeBody() : target.body) : undefined,
  });
  const body = await response.text();
  const problem = expect(response.status, body);
  if (problem) throw new Error(`sanity check of ${target.method} ${target.url} failed: ${problem} (HTTP ${response.status}: ${body.slice(0, 300)})`);
}
