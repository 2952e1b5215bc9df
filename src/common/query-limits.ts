import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { Errors } from './errors';
import { queryCostRule } from './query-cost';

/**
 * Bounds on what one GraphQL document may ask for, over HTTP and graphql-ws alike. Our own operations
 * are far inside them; the depth and cost leave room for the standard introspection query (Apollo
 * Sandbox sends it) and stop a page of pages. How the figures were chosen: docs/decisions.md.
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
