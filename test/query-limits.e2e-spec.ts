import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  GraphQLField,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { QUERY_LIMITS } from '../src/common/query-limits';
import { MAX_PAGE_SIZE } from '../src/journal/adjustment.repository';
import { SubscriberRegistry } from '../src/realtime/subscriber-registry';
import { GraphQLResponse } from './helpers/graphql-client';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

const USER = 'user_2abcXYZ';

type Fields = GraphQLField<unknown, unknown>;

const paged = (field: Fields) => field.args.some((arg) => arg.name === 'first');
const isList = (field: Fields) => paged(field) || isListType(getNullableType(field.type));

/**
 * Every scalar field of `type`, and its object fields `levels` deep (each with its own scalars); lists
 * only where `lists` allows them (a page's own nodes), so that no list is nested in another.
 */
function selection(type: GraphQLNamedType, levels: number, lists: boolean): string {
  const parts: string[] = [];
  for (const field of Object.values((type as GraphQLObjectType).getFields())) {
    if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
    const named = getNamedType(field.type);
    if (!isCompositeType(named)) parts.push(field.name);
    else if (levels > 0 && (lists || !isList(field))) parts.push(`${field.name} { ${selection(named, levels - 1, false)} }`);
  }
  return parts.join(' ');
}

/** `name(first: 100, required arguments) { every field }` for one list field. */
function listField(field: Fields, values: Record<string, string>): string {
  // A page: its nodes and their object fields; a plain list: its elements and their object fields.
  const body = paged(field) ? selection(getNamedType(field.type), 2, true) : selection(getNamedType(field.type), 1, false);
  return `${field.name}${call(field, values)} { ${body} }`;
}

/** The field's arguments: `first: 100` if it pages, and a test value for each required one. */
function call(field: Fields, values: Record<string, string>): string {
  const args = field.args
    .filter((arg) => arg.name === 'first' || (isNonNullType(arg.type) && arg.defaultValue === undefined))
    .map((arg) => {
      if (arg.name === 'first') return `first: ${MAX_PAGE_SIZE}`;
      if (values[arg.name] === undefined) throw new Error(`no test value for ${field.name}(${arg.name}:); add one to the test`);
      return `${arg.name}: ${JSON.stringify(values[arg.name])}`;
    });
  return args.length ? `(${args.join(', ')})` : '';
}

/**
 * From the schema: every root list field, and every paged field of an object a root field answers
 * (`bulkAdjustment(id) { items(first: 100) }`), at the largest page, with every scalar and object field.
 */
function everyListOperation(schema: GraphQLSchema, values: Record<string, string>): Array<{ name: string; kind: 'query' | 'subscription'; text: string }> {
  const operations: Array<{ name: string; kind: 'query' | 'subscription'; text: string }> = [];
  for (const kind of ['query', 'subscription'] as const) {
    const root = (kind === 'query' ? schema.getQueryType() : schema.getSubscriptionType())!;
    for (const field of Object.values(root.getFields())) {
      if (isList(field)) {
        operations.push({ name: field.name, kind, text: `${kind} { ${listField(field, values)} }` });
        continue;
      }
      const parent = getNamedType(field.type);
      if (!isObjectType(parent)) continue;
      for (const inner of Object.values(parent.getFields()).filter(paged)) {
        const text = `${kind} { ${field.name}${call(field, values)} { ${selection(parent, 1, false)} ${listField(inner, values)} } }`;
        operations.push({ name: `${field.name}.${inner.name}`, kind, text });
      }
    }
  }
  return operations;
}

/** The GraphQL operations the README shows: its graphql blocks, the queries of its curl examples, inline ones. */
function readmeOperations(): string[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const operations = new Set<string>();
  for (const [, block] of readme.matchAll(/^[ \t]*```graphql\n([\s\S]*?)^[ \t]*```/gm)) operations.add(block.trim());
  for (const [, body] of readme.matchAll(/-d '(\{"query":[^']*\})'/g)) operations.add((JSON.parse(body) as { query: string }).query);
  for (const [, inline] of readme.matchAll(/[`']((?:query|mutation|subscription)\b[^`'\n]*\})[`']/g)) operations.add(inline);
  return [...operations];
}

const atLargestPage = (operation: string) => operation.replace(/\bfirst:\s*\d+/g, `first: ${MAX_PAGE_SIZE}`);

const LIMIT_CODES = ['query_too_deep', 'query_too_complex'];

function limitErrors(response: GraphQLResponse<unknown>) {
  return (response.body.errors ?? []).filter((error) => LIMIT_CODES.includes(error.extensions?.code as string) || error.extensions?.code === 'invalid_query');
}

describe('query limits', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  let schema: GraphQLSchema;
  let jobId: string;
  const sockets: TestWsClient[] = [];

  function connect(): TestWsClient {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    sockets.push(ws);
    return ws;
  }

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator });
    schema = app.app.get(GraphQLSchemaHost).schema;
    const created = await app.client.query('mutation { createBulkAdjustment(input: { reason: "LIMITS-1 a job to read" }) { id } }');
    jobId = created.body.data!.createBulkAdjustment.id;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((ws) => ws.dispose()));
  });
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('pages no further than the cost model assumes of a variable `first`', () => {
    expect(QUERY_LIMITS.maxPageSize).toBe(MAX_PAGE_SIZE);
  });

  describe('admits every list field at first: 100 with every scalar and object field', () => {
    const values = () => ({ id: jobId, userId: USER });

    it('generates one operation for each list of the schema', () => {
      expect(
        everyListOperation(schema, values())
          .map((operation) => operation.name)
          .sort(),
      ).toEqual(
        expect.arrayContaining([
          'adjustments',
          'approvalRequests',
          'balances',
          'bulkAdjustment.items',
          'bulkAdjustmentProgress.items',
          'bulkAdjustments',
          'currencies',
          'operators',
        ]),
      );
    });

    it('over HTTP', async () => {
      const queries = everyListOperation(schema, values()).filter((operation) => operation.kind === 'query');
      for (const { name, text } of queries) {
        const response = await app.client.query(text);
        expect([name, response.status, response.body.errors]).toEqual([name, 200, undefined]);
      }
    });

    it('over graphql-ws', async () => {
      const ws = connect();
      await ws.connected;
      const subscriptions = everyListOperation(schema, values()).filter((operation) => operation.kind === 'subscription');
      expect(subscriptions.length).toBeGreaterThan(0);
      for (const { name, text } of subscriptions) {
        const progress = subscribe<Record<string, { id: string }>>(ws, text);
        // The job's state on subscribe: the document passed every limit.
        const [field] = name.split('.');
        expect([name, (await progress.next())[field].id, progress.errors]).toEqual([name, jobId, []]);
        progress.unsubscribe();
      }
    });
  });

  describe('admits every operation the README shows, at first: 100', () => {
    const operations = readmeOperations();

    it('finds them', () => {
      // graphql blocks, curl bodies, inline spans and the CSV script's mutation.
      expect(operations.length).toBeGreaterThanOrEqual(11);
      expect(operations.filter((operation) => /\bfirst:/.test(operation)).length).toBeGreaterThan(0);
    });

    it('queries and mutations over HTTP', async () => {
      for (const operation of operations.filter((text) => !text.startsWith('subscription')).map(atLargestPage)) {
        const variables = /\$items\b/.test(operation) ? { id: 'bulk_missing', items: [{ userId: USER, amount: 1 }] } : undefined;
        const response = await app.client.query(operation, variables);
        // Past validation: the operation ran (some answer not_found for the README's placeholder ids).
        expect([operation, limitErrors(response), 'data' in response.body]).toEqual([operation, [], true]);
      }
    });

    it('subscriptions over graphql-ws', async () => {
      const subscriptions = operations.filter((text) => text.startsWith('subscription'));
      expect(subscriptions.map((text) => /subscription \{ (\w+)/.exec(text)?.[1]).sort()).toEqual(['bulkAdjustmentProgress', 'usageChanged']);
      const ws = connect();
      await ws.connected;
      const registry = app.app.get(SubscriberRegistry);
      for (const operation of subscriptions.map((text) => text.replace(/\bid: "[^"]*"/, `id: ${JSON.stringify(jobId)}`))) {
        const events = subscribe<Record<string, Record<string, unknown>>>(ws, operation);
        if (operation.includes('usageChanged')) {
          await waitFor(() => registry.size.listeners === 1, 5000, 'the usageChanged subscription');
          await app.client.query(`mutation { adjustCredits(input: { userId: "${USER}", amount: 5, reason: "LIMITS-2 an event" }) { id } }`);
          expect((await events.next()).usageChanged).toMatchObject({ userId: USER, delta: 5 });
        } else {
          expect((await events.next()).bulkAdjustmentProgress).toMatchObject({ status: 'DRAFT', total: 0 });
        }
        expect(events.errors).toEqual([]);
        events.unsubscribe();
      }
    });
  });

  describe('refuses documents built to be expensive', () => {
    const reversals = (depth: number) =>
      `{ adjustment(id: "adj_x") { ${Array.from({ length: depth }, (_, i) => (i % 2 ? 'reversedBy {' : 'reverses {')).join(' ')} id ${'}'.repeat(depth)} } }`;
    const CASES: Array<{ name: string; query: string; variables?: Record<string, unknown>; code: string; message: string }> = [
      {
        name: 'adjustment.reverses.reversedBy... 26 deep',
        query: reversals(25),
        code: 'query_too_deep',
        message: 'query_too_deep: Query depth limit of 25 exceeded, found 27.',
      },
      {
        name: '100 aliases of balances',
        query: `{ ${Array.from({ length: 100 }, (_, i) => `b${i}: balances(userId: "${USER}") { balance }`).join(' ')} }`,
        code: 'query_too_complex',
        message: 'query_too_complex: Aliases limit of 40 exceeded, found 100.',
      },
      {
        name: 'a page of 100 in each of 100 jobs (nested lists)',
        query: '{ bulkAdjustments(first: 100) { nodes { id items(first: 100) { nodes { id amount actor { name } } } } } }',
        code: 'query_too_complex',
        // 100 jobs × (1 + a connection of 100 × (item + actor)), plus the outer connection.
        message: 'query_too_complex: Query Cost limit of 2000 exceeded, found 20201.',
      },
      {
        name: 'the same nested lists paged by a variable',
        query: 'query ($n: Int!) { bulkAdjustments(first: $n) { nodes { id items(first: $n) { nodes { id } } } } }',
        variables: { n: 100 },
        code: 'query_too_complex',
        message: 'query_too_complex: Query Cost limit of 2000 exceeded, found 10201.',
      },
      {
        name: 'four full pages of the journal under aliases',
        query: `{ ${[1, 2, 3, 4].map((i) => `p${i}: adjustments(first: 100) { nodes { id actor { name } approvedBy { name } reverses { id } reversedBy { id } } }`).join(' ')} }`,
        code: 'query_too_complex',
        message: 'query_too_complex: Query Cost limit of 2000 exceeded, found 2004.',
      },
      {
        name: 'an introspection loop (fields of the types of fields, three turns)',
        query: '{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }',
        code: 'query_too_complex',
        message: expect.stringMatching(/^query_too_complex: Query Cost limit of 2000 exceeded, found \d{5,}\.$/),
      },
      {
        name: 'an introspection loop through __type, cheap but nested',
        query: '{ __type(name: "Query") { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } }',
        code: 'query_too_complex',
        message: 'query_too_complex: introspection lists (fields, inputFields, interfaces, possibleTypes) nest at most 2 deep',
      },
    ];

    it.each(CASES)('$name over HTTP → 400 $code', async ({ query, variables, code, message }) => {
      const transactions = emulator.transactions.length;
      const response = await app.client.query(query, variables);
      expect(response.status).toBe(400);
      // graphql-js's own rule answers with locations as well; the code and message are what matter.
      const { locations: _locations, ...error } = response.body.errors?.[0] as Record<string, unknown>;
      expect(error).toEqual({ message, extensions: { code, status: 400, requestId: expect.any(String) } });
      expect(response.body).not.toHaveProperty('data');
      expect(emulator.transactions).toHaveLength(transactions);
    });

    it('a nested-list subscription over graphql-ws', async () => {
      const ws = connect();
      await ws.connected;
      const items = (i: number) => `i${i}: items(first: 100) { nodes { id actor { name } approvedBy { name } reverses { id } reversedBy { id } } }`;
      const progress = subscribe(ws, `subscription { bulkAdjustmentProgress(id: ${JSON.stringify(jobId)}) { ${[1, 2, 3, 4].map(items).join(' ')} } }`);
      expect(await progress.failed).toEqual([
        { message: 'query_too_complex: Query Cost limit of 2000 exceeded, found 2005.', extensions: { code: 'query_too_complex', status: 400 } },
      ]);
      expect(progress.events).toEqual([]);
    });

    it('still admits the standard introspection query (Apollo Sandbox sends it)', async () => {
      const response = await app.client.query(getIntrospectionQuery());
      expect([response.status, response.body.errors]).toEqual([200, undefined]);
    });
  });
});
