import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { Errors } from './errors';
import { queryCostRule } from './query-cost';

/**
 * Bounds on what one GraphQL document may ask for, over HTTP and graphql-ws alike; our own operations
 * are far inside them. Our own types nest three deep; only introspection goes deeper: graphql-js's
 * standard introspection query, which Apollo Sandbox sends, counts 21 here (fragments flattened), so
 * depth counts introspection too and stops anything much deeper than that.
 *
 * Cost is the number of objects an answer can hold (see queryCostRule): a full page of 100 of any list,
 * with every object field one level down, costs about 500; the standard introspection query about 750;
 * a page of 100 inside each of 100 others, 10,000 and more.
 */
export const QUERY_LIMITS = {
  maxDepth: 25,
  maxCost: 2000,
  maxAliases: 40,
  maxTokens: 2000,
  /** The largest `first` a list accepts: what a `first` given as a variable is weighed as. */
  maxPageSize: 100,
  /** What a list with no `first` (currencies, balances, operators) is weighed as. */
  unpagedListSize: 10,
} as const;

// The rules report our own catalogue errors instead of their generic "Syntax Error" ones.
export const queryLimitRules = [
  maxDepthRule({
    n: QUERY_LIMITS.maxDepth,
    ignoreIntrospection: false,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooDeep(withoutPrefix(error.message)))],
  }),
  queryCostRule(QUERY_LIMITS),
  maxAliasesRule({
    n: QUERY_LIMITS.maxAliases,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooComplex(withoutPrefix(error.message)))],
  }),
];

function withoutPrefix(message: string): string {
  return message.replace(/^Syntax Error: /, '');
}
