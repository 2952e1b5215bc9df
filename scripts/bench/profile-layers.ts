/**
 * CPU per request by layer, from the measured-window profiles `npm run bench -- --profile-balances <dir>`
 * writes (one .cpuprofile per path and round, each with a .meta.json holding its request count).
 *
 *   npx ts-node --transpile-only scripts/bench/profile-layers.ts <a.cpuprofile> [<b.cpuprofile> ...]
 *     [--median] [--top <n>] [--layer <name>] [--raw]
 *
 * One column per profile; `--median` folds the rounds of each path (`balances-<path>-round<n>-...`) into
 * one column of medians; `--top <n>` lists the functions with the most self time (in `--layer` only).
 *
 * Each sample is charged to the innermost frame on its stack that belongs to a known layer (our own
 * files by path, libraries by package); Node's internals and builtins have no layer of their own and
 * are charged to their caller, so `createHash` in the rate-limit guard is the guard's. A stack with no
 * such frame at all (the HTTP parser, socket reads, timers) is "Node runtime".
 *
 * The sampler runs on wall time, so on a busy machine a sample also stands for time the process was
 * waiting for a core. Each layer's figure is therefore its share of the busy (not idle) samples times
 * the process's own CPU per request over the same window (process.cpuUsage(), from the .meta.json):
 * µs of CPU per request, under the profiler (which itself costs a little), comparable between profiles
 * taken at different loads. `--raw` gives the sampled time per request instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Package → layer. Checked on the part of the URL after the last `node_modules/`. */
const PACKAGE_LAYERS: [RegExp, string][] = [
  [/^@nestjs\/core\/guards\//, 'guards: Nest plumbing'],
  [/^@nestjs\/core\/(pipes|helpers\/.*pipes)\//, 'ValidationPipe (class-validator, class-transformer)'],
  [/^@nestjs\/common\/pipes\//, 'ValidationPipe (class-validator, class-transformer)'],
  [/^(class-validator|class-transformer|validator|libphonenumber-js)\//, 'ValidationPipe (class-validator, class-transformer)'],
  [/^@nestjs\/core\/interceptors\//, 'interceptors: Nest plumbing'],
  [/^@nestjs\/throttler\//, 'guards: GqlThrottlerGuard'],
  [/^@nestjs\/axios\//, 'RevenueCat HTTP client: axios'],
  [/^(axios|follow-redirects|form-data|proxy-from-env|combined-stream|asynckit|delayed-stream)\//, 'RevenueCat HTTP client: axios'],
  [
    /^(nestjs-pino|pino|pino-http|pino-std-serializers|fast-redact|sonic-boom|thread-stream|quick-format-unescaped|atomic-sleep|safe-stable-stringify|on-exit-leak-free|process-warning|fast-safe-stringify)\//,
    'logging (nestjs-pino, pino-http)',
  ],
  [/^(prom-client|tdigest|bintrees)\//, 'metrics (prom-client)'],
  [/^(body-parser|raw-body|iconv-lite|type-is|content-type|media-typer|bytes|unpipe)\//, 'body parsing (body-parser)'],
  [/^@escape\.tech\//, 'query limits (graphql-armor)'],
  [
    /^(fastify|@fastify\/[^/]+|@nestjs\/platform-fastify|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|fast-content-type-parse|fastq|reusify|toad-cache|secure-json-parse|rfdc|abstract-logging|ret|safe-regex2)\//,
    'Fastify (router, request, reply)',
  ],
  [/^@nestjs\/(graphql|apollo)\//, 'Nest GraphQL (@nestjs/graphql, @nestjs/apollo)'],
  [/^@nestjs\/(core|common|platform-express)\//, 'Nest core (router, context, proxies)'],
  [/^(rxjs|reflect-metadata|tslib|iterare|uid|fast-safe-stringify)\//, 'Nest core (router, context, proxies)'],
  [
    /^(@apollo|@as-integrations|@graphql-tools|@whatwg-node|lru-cache|uuid|negotiator|loglevel|whatwg-mimetype|async-retry|node-abort-controller|sha\.js|value-or-promise)\b/,
    'Apollo Server',
  ],
  [/^graphql\//, 'graphql-js (parse, validate, execute)'],
  [
    /^(express|router|finalhandler|path-to-regexp|qs|parseurl|on-finished|ee-first|accepts|mime-types|mime-db|send|http-errors|statuses|depd|encodeurl|escape-html|fresh|range-parser|etag|vary|cookie|cookie-signature|merge-descriptors|utils-merge|setprototypeof|inherits|proxy-addr|forwarded|ipaddr\.js|content-disposition|safe-buffer|serve-static|debug|ms|is-promise|once|wrappy|side-channel.*|call-bind.*|get-intrinsic|es-.*|function-bind|has-.*|hasown|gopd|object-inspect|dunder-proto|math-intrinsics|call-bound)\//,
    'Express (router, request, response)',
  ],
  [/^(ioredis|@ioredis|redis-errors|redis-parser|cluster-key-slot|denque|standard-as-callback|lodash\..*)\//, 'Redis client'],
  [/^(drizzle-orm|pg|pg-.*|@electric-sql)\//, 'database'],
  [/^(ts-node|source-map-support|typescript)\//, 'ts-node (loading)'],
];

/** Our own files → layer, by path under the repository. */
const SOURCE_LAYERS: [RegExp, string][] = [
  [/src\/lifecycle\/drain-gate\.middleware\.[jt]s$/, 'middleware: DrainGate'],
  [/src\/auth\/(admin-auth\.middleware|admin-authenticator)\.[jt]s$/, 'middleware: AdminAuth'],
  [/src\/graphql\/(json-body\.middleware|graphql-gate\.middleware)\.[jt]s$/, 'middleware: JsonBody'],
  [/src\/graphql\/json-body-reader\.[jt]s$/, 'body parsing (body-parser)'],
  [/src\/auth\//, 'auth (other)'],
  [/src\/operators\//, 'auth (other)'],
  [/src\/rate-limit\//, 'guards: GqlThrottlerGuard'],
  [/src\/common\/(validation|validators|text)\.[jt]s$/, 'ValidationPipe (class-validator, class-transformer)'],
  [/src\/metrics\//, 'Metrics.measure'],
  [/src\/logging\//, 'logging (nestjs-pino, pino-http)'],
  [/src\/common\/(graphql-errors|errors|gateway-error\.filter|http-refusal)\.[jt]s$/, 'formatError, plugins, filter'],
  [/src\/common\/query-limits\.[jt]s$/, 'query limits (graphql-armor)'],
  [/src\/revenuecat\//, 'RevenueCat HTTP client: ours'],
  [/src\/credits\//, 'resolver and CreditsService'],
  [/src\//, 'other service code'],
  [/scripts\/bench\//, 'reference server code'],
  [/emulator\//, 'emulator'],
];

function layerOfFrame(frame: CallFrame): string | undefined {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8 and native code (program)';
  if (url.startsWith('node:internal/async_hooks') || url === 'node:async_hooks') return 'AsyncLocalStorage and async_hooks';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length);
    for (const [pattern, layer] of PACKAGE_LAYERS) if (pattern.test(rest)) return layer;
    return `package ${rest.startsWith('@') ? rest.split('/').slice(0, 2).join('/') : rest.split('/')[0]}`;
  }
  for (const [pattern, layer] of SOURCE_LAYERS) if (pattern.test(url)) return layer;
  return undefined;
}

interface Analysis {
  name: string;
  requests: number;
  /** The process's CPU per request over the window, when the .meta.json has it. */
  cpuPerRequestUs: number;
  windowMs: number;
  byLayer: Map<string, number>;
  byFunction: Map<string, number>;
}

function analyse(path: string, layerFilter?: string): Analysis {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const metaPath = path.replace(/\.cpuprofile$/, '.meta.json');
  const meta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as { requests: number; cpuPerRequestUs?: number }) : undefined;
  const nodes = new Map<number, ProfileNode>();
  for (const node of profile.nodes) nodes.set(node.id, node);
  for (const node of profile.nodes) for (const child of node.children ?? []) nodes.get(child)!.parent = node.id;
  // Each node's layer: its own frame's, or the nearest ancestor's that has one.
  const layerOf = new Map<number, string>();
  const resolveLayer = (id: number): string => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    const node = nodes.get(id)!;
    const own = layerOfFrame(node.callFrame);
    const layer =
      own ??
      (node.parent !== undefined && nodes.get(node.parent)!.callFrame.functionName !== '(root)' ? resolveLayer(node.parent) : 'Node runtime (HTTP parser, sockets, timers)');
    layerOf.set(id, layer);
    return layer;
  };
  const byLayer = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the next delta is how long sample i stood.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    const layer = resolveLayer(id);
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + us);
    if (!layerFilter || layer === layerFilter) {
      const frame = nodes.get(id)!.callFrame;
      const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|scripts)\//, '$1/')}:${frame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    }
  }
  return {
    name: basename(path, '.cpuprofile'),
    requests: meta?.requests ?? NaN,
    cpuPerRequestUs: meta?.cpuPerRequestUs ?? NaN,
    windowMs: (profile.endTime - profile.startTime) / 1000,
    byLayer,
    byFunction,
  };
}

interface Column {
  name: string;
  /** µs per request by layer. */
  layers: Map<string, number>;
  total: number;
  sampledPerRequest: number;
  requests: number;
  idleShare: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function main(): void {
  const args = process.argv.slice(2);
  const files: string[] = [];
  let top = 0;
  let layer: string | undefined;
  let raw = false;
  let medians = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else if (args[i] === '--raw') raw = true;
    else if (args[i] === '--median') medians = true;
    else if (args[i] === '--layer') layer = args[++i];
    else files.push(args[i]);
  }
  if (files.length === 0) {
    process.stderr.write('usage: profile-layers.ts <a.cpuprofile> [...] [--median] [--top <n>] [--layer <name>] [--raw]\n');
    process.exit(2);
  }
  const analyses = files.map((file) => analyse(file, layer));
  const busySampled = (a: Analysis) => [...a.byLayer].filter(([name]) => name !== 'idle').reduce((sum, [, us]) => sum + us, 0);
  // Sampled µs → CPU µs per request (see the top of this file); raw: sampled µs per request.
  const scale = (a: Analysis) => (raw || !Number.isFinite(a.cpuPerRequestUs) ? 1 / a.requests : a.cpuPerRequestUs / busySampled(a));
  let columns: Column[] = analyses.map((a) => ({
    name: a.name,
    layers: new Map([...a.byLayer].filter(([name]) => name !== 'idle').map(([name, us]) => [name, us * scale(a)])),
    total: busySampled(a) * scale(a),
    sampledPerRequest: busySampled(a) / a.requests,
    requests: a.requests,
    idleShare: (a.byLayer.get('idle') ?? 0) / 1000 / a.windowMs,
  }));
  if (medians) {
    // One column per path: the rounds of `balances-<path>-round<n>-<run>` folded into their medians.
    const groups = new Map<string, Column[]>();
    for (const column of columns) {
      const key = column.name.replace(/-round\d+/, '');
      groups.set(key, [...(groups.get(key) ?? []), column]);
    }
    columns = [...groups].map(([name, group]) => {
      const names = new Set(group.flatMap((column) => [...column.layers.keys()]));
      return {
        name: `${name} (median of ${group.length})`,
        layers: new Map([...names].map((layerName) => [layerName, median(group.map((column) => column.layers.get(layerName) ?? 0))])),
        total: median(group.map((column) => column.total)),
        sampledPerRequest: median(group.map((column) => column.sampledPerRequest)),
        requests: median(group.map((column) => column.requests)),
        idleShare: median(group.map((column) => column.idleShare)),
      };
    });
  }
  const layers = new Set<string>();
  for (const column of columns) for (const name of column.layers.keys()) layers.add(name);
  const last = columns[columns.length - 1];
  const rows = [...layers].sort((a, b) => (last.layers.get(b) ?? 0) - (last.layers.get(a) ?? 0));
  const cell = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : 'n/a');
  const out: string[] = [];
  out.push(`| layer (µs per request) | ${columns.map((column) => column.name).join(' | ')} |`);
  out.push(`|---|${columns.map(() => '---:').join('|')}|`);
  for (const name of rows) out.push(`| ${name} | ${columns.map((column) => cell(column.layers.get(name) ?? 0)).join(' | ')} |`);
  out.push(`| **total** | ${columns.map((column) => `**${cell(column.total)}**`).join(' | ')} |`);
  out.push(`| sampled (wall) time per request, not idle | ${columns.map((column) => cell(column.sampledPerRequest)).join(' | ')} |`);
  out.push(`| requests in the window | ${columns.map((column) => cell(column.requests)).join(' | ')} |`);
  out.push(`| idle share of the window | ${columns.map((column) => `${(column.idleShare * 100).toFixed(0)}%`).join(' | ')} |`);
  if (!layer) process.stdout.write(out.join('\n') + '\n');
  if (top > 0) {
    for (const analysis of analyses) {
      process.stdout.write(`\n${analysis.name}: top ${top} functions by self time${layer ? ` in "${layer}"` : ''} (µs per request)\n`);
      const sorted = [...analysis.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top);
      for (const [key, us] of sorted) process.stdout.write(`  ${(us * scale(analysis)).toFixed(1).padStart(7)}  ${key}\n`);
    }
  }
}

main();
