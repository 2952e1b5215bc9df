import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, getIntrospectionQuery, graphqlSync, Kind, OperationDefinitionNode, parse, specifiedRules, validate } from 'graphql';
import { operationCost } from './query-cost';
import { QUERY_LIMITS, queryLimitRules } from './query-limits';

const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8'));

function cost(query: string): number {
  const document = parse(query);
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;
  const fragment = (name: string) => document.definitions.find((definition) => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === name) as never;
  return operationCost(schema, operation, fragment, QUERY_LIMITS);
}

/** The objects an answer holds, counted the way the cost model counts them (lists are their elements). */
function objects(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + objects(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  return 1 + Object.values(value).reduce((sum: number, item) => sum + objects(item), 0);
}

describe('query cost', () => {
  it('counts each object once and scalars not at all', () => {
    expect(cost('{ me { name role } }')).toBe(1);
    expect(cost('{ adjustment(id: "a") { id reverses { id actor { name } } } }')).toBe(3);
  });

  it('weighs a page by the `first` it asks for: its nodes, not its pageInfo', () => {
    const page = (first: string) => `{ adjustments${first} { nodes { id actor { name } } pageInfo { endCursor } } }`;
    // connection + pageInfo + first × (record + actor)
    expect(cost(page('(first: 1)'))).toBe(4);
    expect(cost(page('(first: 100)'))).toBe(202);
    // The schema's default (20) when omitted; the largest page when a variable, whose value validation never sees.
    expect(cost(page(''))).toBe(42);
    expect(cost(`query ($n: Int!) ${page('(first: $n)')}`)).toBe(202);
  });

  it('multiplies nested pages', () => {
    expect(cost('{ bulkAdjustments(first: 10) { nodes { items(first: 100) { nodes { id } } } } }')).toBe(1 + 10 * (1 + 1 + 100));
  });

  it('weighs a list without `first` as the unpaged list size', () => {
    expect(cost('{ currencies { code productGrants { amount } } }')).toBe(10 * (1 + 10));
  });

  it('follows fragments and inline fragments, keeping the page they sit under', () => {
    expect(cost('{ adjustments(first: 100) { ...Page } } fragment Page on AdjustmentConnection { nodes { ... on AdjustmentRecord { actor { name } } } }')).toBe(201);
  });

  it('weighs fragments that spread each other many times without expanding them, and survives a cycle', () => {
    const chain = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Actor { ...F${i + 1} ...F${i + 1} }`).join(' ');
    const started = Date.now();
    expect(cost(`{ me { ...F0 } } ${chain} fragment F30 on Actor { name }`)).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cost('{ me { ...A } } fragment A on Actor { ...B } fragment B on Actor { ...A }')).toBe(1);
  });

  it('estimates the standard introspection query close to what it answers', () => {
    const answered = objects(graphqlSync({ schema, source: getIntrospectionQuery() }).data);
    const estimated = cost(getIntrospectionQuery());
    expect(Math.abs(estimated - answered) / answered).toBeLessThan(0.2);
    expect(estimated).toBeLessThan(QUERY_LIMITS.maxCost / 2);
  });

  it('reports past the limit with the limit and the cost in the message', () => {
    const errors = validate(schema, parse('{ bulkAdjustments(first: 100) { nodes { items(first: 100) { nodes { id } } } } }'), [...specifiedRules, ...queryLimitRules]);
    expect(errors.map((error) => [error.message, error.extensions])).toEqual([
      ['query_too_complex: Query Cost limit of 2000 exceeded, found 10201.', { code: 'query_too_complex', status: 400 }],
    ]);
  });
});
