import type { OperatorRole } from '../common/actor';

/**
 * The lowest role allowed to run each root field (DESIGN "Operators and roles"); each role includes the
 * ones before it. Like rate limits, it follows the GraphQL field as the schema spells it. A field missing
 * here is refused to everyone (a spec checks that every field of schema.gql is listed). Finer rules (whom
 * a SUPERVISOR may manage, who may approve what) are the resolvers'.
 */
const FIELD_ROLES: Readonly<Record<string, Readonly<Record<string, OperatorRole>>>> = {
  Query: {
    currencies: 'VIEWER',
    balances: 'VIEWER',
    adjustment: 'VIEWER',
    adjustments: 'VIEWER',
    approvalRequests: 'VIEWER',
    bulkAdjustment: 'VIEWER',
    bulkAdjustments: 'VIEWER',
    me: 'VIEWER',
    operators: 'SUPERVISOR',
  },
  Mutation: {
    adjustCredits: 'AGENT',
    reverseAdjustment: 'AGENT',
    approveAdjustment: 'SUPERVISOR',
    rejectAdjustment: 'SUPERVISOR',
    createOperator: 'SUPERVISOR',
    updateOperator: 'SUPERVISOR',
    revokeOperator: 'SUPERVISOR',
    createBulkAdjustment: 'ADMIN',
    addBulkAdjustmentItems: 'ADMIN',
    startBulkAdjustment: 'ADMIN',
    cancelBulkAdjustment: 'ADMIN',
    retryBulkAdjustment: 'ADMIN',
  },
  Subscription: {
    usageChanged: 'VIEWER',
    bulkAdjustmentProgress: 'VIEWER',
  },
};

/** The lowest role allowed to run `parentType.fieldName`; undefined when none is (an unlisted field). */
export function requiredRoleFor(parentType: string, fieldName: string): OperatorRole | undefined {
  const forType = FIELD_ROLES[parentType];
  return forType && Object.hasOwn(forType, fieldName) ? forType[fieldName] : undefined;
}
