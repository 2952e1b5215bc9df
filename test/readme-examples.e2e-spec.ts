import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { GraphQLClient } from './helpers/graphql-client';
import { sample } from './helpers/metrics';
import { describeWithPostgres } from './helpers/postgres';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, TestWsClient, waitFor } from './helpers/ws-client';

/**
 * Every example of README.md, run in order on a fresh demo, as a newcomer pastes them. The conventions
 * (addresses, placeholders, markers) are the ones the README states under "Two commands".
 */

const README = join(__dirname, '..', 'README.md');
const LANGUAGES = new Set(['bash', 'sh', 'graphql', 'js', 'json', 'http']);

interface Example {
  name: string;
  language: string;
  body: string;
  skip?: string;
  error?: string;
  file?: string;
  event?: boolean;
}

/** Fenced blocks with a language, in order, with the `<!-- example: ... -->` marker just before each. */
function extractExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  const perSection = new Map<string, number>();
  let section = '(top)';
  let previous = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) section = heading[1].trim();
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') previous = line.trim();
      continue;
    }
    const [, indent, language] = fence;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) {
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    }
    const marker = /^<!-- example: (.*) -->$/.exec(previous)?.[1];
    previous = '';
    if (language === '') continue; // a listing (the layout), not an example
    const ordinal = (perSection.get(section) ?? 0) + 1;
    perSection.set(section, ordinal);
    const example: Example = { name: `${section} #${ordinal} (${language})`, language, body: body.join('\n') };
    if (marker !== undefined) {
      const skip = /^skip \((.+)\)$/.exec(marker);
      const error = /^error (\w+)$/.exec(marker);
      const file = /^file ([\w.-]+)$/.exec(marker);
      if (skip) example.skip = skip[1];
      else if (error) example.error = error[1];
      else if (file) example.file = file[1];
      else if (marker === 'event of the subscription above') example.event = true;
      else throw new Error(`README: unknown example marker "${marker}" before ${example.name}`);
    }
    examples.push(example);
  }
  return examples;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every scalar of an answer with its path, for placeholders such as `<createOperator.token>`. */
function leaves(value: Json, path: string[] = []): Array<[string[], Json]> {
  if (value === null || typeof value !== 'object') return [[path, value]];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
}

function endsWith(path: string[], tail: string[]): boolean {
  return tail.length <= path.length && tail.every((segment, i) => path[path.length - tail.length + i] === segment);
}

const PLACEHOLDER = /<([A-Za-z_]\w*(?:\.\w+)*)>/g;

interface Subscription {
  name: string;
  ws: TestWsClient;
  events: Array<Record<string, Json>>;
  errors: unknown[];
  taken: number;
}

const examples = extractExamples(readFileSync(README, 'utf8'));
const fencesWithLanguage = readFileSync(README, 'utf8')
  .split('\n')
  .filter((line) => /^\s*```\w+\s*$/.test(line)).length;

describeWithPostgres('README examples, in order, on a fresh demo', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  let client: GraphQLClient;
  let workdir: string;
  const answers: Json[] = [];
  const subscriptions: Subscription[] = [];
  let ran = 0;

  beforeAll(async () => {
    await emulator.listen();
    // The demo's configuration: the seeded emulator, the admin secret, no Redis, every limit at its default.
    app = await startApp({
      emulator,
      env: {
        REVENUECAT_TIMEOUT_MS: undefined,
        REVENUECAT_MAX_BACKOFF_MS: undefined,
        RATE_LIMIT_CURRENCIES_PER_MINUTE: undefined,
        RATE_LIMIT_BALANCES_PER_MINUTE: undefined,
        RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: undefined,
        RATE_LIMIT_MUTATIONS_PER_MINUTE: undefined,
        WS_MAX_CONNECTIONS_PER_CLIENT: undefined,
        WS_CONNECT_ATTEMPTS_PER_MINUTE: undefined,
      },
    });
    client = app.client;
    workdir = mkdtempSync(join(tmpdir(), 'readme-examples-'));
  });
  afterAll(async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.ws.dispose()));
    await app?.close();
    await emulator.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  /** The value a placeholder names, from the newest answer that has it. */
  function resolve(placeholder: string): string {
    const tail = placeholder.split('.');
    for (let i = answers.length - 1; i >= 0; i--) {
      const found = new Set(
        leaves(answers[i])
          .filter(([path]) => endsWith(path, tail))
          .map(([, value]) => value),
      );
      if (found.size > 1) throw new Error(`<${placeholder}> is ambiguous in an earlier answer: ${[...found].join(', ')}`);
      if (found.size === 1) return String([...found][0]);
    }
    throw new Error(`<${placeholder}>: no earlier answer has it`);
  }

  function prepare(text: string, placeholders: boolean): string {
    const gateway = new URL(app.url).host;
    const emulatorHost = new URL(emulator.baseUrl).host;
    let out = text.replace(/\b(localhost|127\.0\.0\.1):3000\b/g, gateway).replace(/\blocalhost:4010\b/g, emulatorHost);
    if (placeholders) out = out.replace(PLACEHOLDER, (_, name: string) => resolve(name));
    return out;
  }

  function checkAnswer(example: Example, answer: { errors?: Array<{ extensions?: Record<string, unknown> }> }, status?: number): void {
    if (example.error) {
      expect(answer.errors?.[0]?.extensions?.code).toBe(example.error);
      if (status !== undefined) expect(status).toBe(answer.errors?.[0]?.extensions?.status);
    } else {
      expect(answer.errors).toBeUndefined();
      if (status !== undefined) expect(status).toBeLessThan(300);
    }
  }

  async function runShell(example: Example): Promise<void> {
    // Each curl also writes its HTTP status to stderr, so the status is checked without touching stdout.
    const script = `set -eu -o pipefail\ncurl() { command curl --write-out '%{stderr}%{http_code}\\n' "$@"; }\n${prepare(example.body, true)}\n`;
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      execFile('bash', ['-c', script], { cwd: workdir, timeout: 30_000, env: { PATH: process.env.PATH, HOME: workdir, ADMIN_SECRET } }, (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    if (code !== 0) throw new Error(`exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
    if (!/\bcurl\b/.test(example.body)) return;
    let answer: Json;
    try {
      answer = JSON.parse(stdout) as Json;
    } catch {
      throw new Error(`the answer is not one JSON document: ${stdout.slice(0, 300)}`);
    }
    const statuses = stderr
      .split('\n')
      .filter((line) => /^\d{3}$/.test(line))
      .map(Number);
    expect(statuses).toHaveLength(1);
    answers.push(answer);
    checkAnswer(example, answer as Record<string, never>, statuses[0]);
    // The emulator's control API answers RevenueCat's error shape rather than GraphQL's.
    expect((answer as Record<string, Json>).object).not.toBe('error');
  }

  async function runGraphql(example: Example): Promise<void> {
    const document = prepare(example.body, true);
    if (/^\s*subscription\b/.test(document)) {
      const subscribed = async () => {
        const { text } = await app.http.get('/metrics');
        return (sample(text, 'credits_realtime_subscriptions', { scope: 'user' }) ?? 0) + (sample(text, 'credits_realtime_subscriptions', { scope: 'all' }) ?? 0);
      };
      const before = await subscribed();
      const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
      await ws.connected;
      const subscription: Subscription = { name: example.name, ws, events: [], errors: [], taken: 0 };
      subscriptions.push(subscription);
      ws.client.subscribe<Record<string, Json>>(
        { query: document },
        {
          next: (result) => {
            if (result.errors) subscription.errors.push(...result.errors);
            if (result.data) subscription.events.push(result.data);
          },
          error: (error) => subscription.errors.push(error),
          complete: () => undefined,
        },
      );
      // Running once an event came, or the server counts the subscription (one that sends nothing on subscribe).
      const counted = async () => subscription.events.length > 0 || subscription.errors.length > 0 || (await subscribed()) > before;
      await waitFor(counted, 5000, `${example.name} to be subscribed`);
      expect(subscription.errors).toEqual([]);
      return;
    }
    const response = await client.query(document);
    answers.push(response.body as Json);
    checkAnswer(example, response.body, response.status);
  }

  async function checkEvent(example: Example): Promise<void> {
    const subscription = subscriptions.at(-1);
    if (!subscription) throw new Error('no subscription above this event');
    await waitFor(() => subscription.events.length > subscription.taken, 5000, `an event of ${subscription.name}`);
    const received = Object.values(subscription.events[subscription.taken++])[0] as Record<string, Json>;
    const documented = JSON.parse(example.body) as Record<string, Json>;
    expect(subscription.errors).toEqual([]);
    expect(Object.keys(received).sort()).toEqual(Object.keys(documented).sort());
    for (const [key, value] of Object.entries(documented)) {
      expect([key, typeof received[key]]).toEqual([key, typeof value]);
    }
    // What does not change from one run to the next must be as documented.
    for (const key of ['type', 'silent', 'userId', 'currency', 'delta']) expect([key, received[key]]).toEqual([key, documented[key]]);
  }

  for (const example of examples) {
    if (example.skip) {
      it.skip(`${example.name} [skipped: ${example.skip}]`, () => undefined);
      continue;
    }
    it(example.name, async () => {
      if (example.file) {
        writeFileSync(join(workdir, example.file), prepare(example.body, false));
      } else if (example.event) {
        await checkEvent(example);
      } else if (example.language === 'bash' || example.language === 'sh') {
        await runShell(example);
      } else if (example.language === 'graphql') {
        await runGraphql(example);
      } else {
        throw new Error(`a ${example.language} block needs a marker: skip (why), file NAME or event of the subscription above`);
      }
      ran++;
    });
  }

  it('found every example, ran every one not marked skip, and every subscription stayed clean', () => {
    for (const example of examples) expect(LANGUAGES).toContain(example.language);
    expect(examples).toHaveLength(fencesWithLanguage);
    expect(ran).toBe(examples.filter((example) => !example.skip).length);
    expect(ran).toBeGreaterThanOrEqual(15);
    for (const subscription of subscriptions) {
      expect([subscription.name, subscription.errors]).toEqual([subscription.name, []]);
      expect(subscription.events.length).toBeGreaterThan(0);
    }
  });
});
