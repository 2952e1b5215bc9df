import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { Errors } from './errors';

/**
 * Bounds on what one GraphQL document may ask for, over HTTP and graphql-ws alike; our own operations
 * are far inside them. Our own types nest three deep; only introspection goes deeper: graphql-js's
 * standard introspection query, which Apollo Sandbox sends, counts 21 here (fragments flattened), so
 * depth counts introspection too and stops anything much deeper than that.
 */
export const QUERY_LIMITS = { maxDepth: 25, maxCost: 2000, maxAliases: 40, maxTokens: 2000 } as const;

// The rules report our own catalogue errors instead of their generic "Syntax Error" ones.
export const queryLimitRules = [
  maxDepthRule({
    n: QUERY_LIMITS.maxDepth,
    ignoreIntrospection: false,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooDeep(withoutPrefix(error.message)))],
  }),
  costLimitRule({
    maxCost: QUERY_LIMITS.maxCost,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooComplex(withoutPrefix(error.message)))],
  }),
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
