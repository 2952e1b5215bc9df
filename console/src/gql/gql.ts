/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    me {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n  }\n": typeof types.MeDocument,
    "\n  query Currencies {\n    currencies {\n      code\n      name\n    }\n  }\n": typeof types.CurrenciesDocument,
    "\n  query Balances($userId: ID!) {\n    balances(userId: $userId, includeEmpty: true) {\n      currency\n      name\n      balance\n    }\n  }\n": typeof types.BalancesDocument,
    "\n  subscription UsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      userId\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n": typeof types.UsageChangedDocument,
    "\n  fragment HistoryRecord on AdjustmentRecord {\n    id\n    createdAt\n    settledAt\n    userId\n    amount\n    currency\n    reason\n    status\n    errorCode\n    balance\n    idempotencyKey\n    bulkAdjustmentId\n    actor {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n    approvedBy {\n      name\n      onBehalfOf\n    }\n    reverses {\n      id\n    }\n    reversedBy {\n      id\n      status\n    }\n  }\n": typeof types.HistoryRecordFragmentDoc,
    "\n  query History($filter: AdjustmentFilter!, $first: Int!, $after: String) {\n    adjustments(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...HistoryRecord\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.HistoryDocument,
    "\n  query HistoryCsv($userId: ID!, $status: AdjustmentStatus) {\n    adjustmentsCsv(userId: $userId, status: $status)\n  }\n": typeof types.HistoryCsvDocument,
    "\n  query Adjustment($id: ID!) {\n    adjustment(id: $id) {\n      ...HistoryRecord\n    }\n  }\n": typeof types.AdjustmentDocument,
    "\n  mutation AdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n": typeof types.AdjustCreditsDocument,
    "\n  mutation ReverseAdjustment($input: ReverseAdjustmentInput!) {\n    reverseAdjustment(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n    }\n  }\n": typeof types.ReverseAdjustmentDocument,
    "\n  query PendingApprovals($first: Int!, $after: String) {\n    approvalRequests(status: PENDING, first: $first, after: $after) {\n      nodes {\n        id\n        userId\n        amount\n        currency\n        reason\n        createdAt\n        expiresAt\n        requestedBy {\n          name\n          operatorId\n          onBehalfOf\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.PendingApprovalsDocument,
    "\n  mutation Approve($id: ID!) {\n    approveAdjustment(id: $id) {\n      id\n      userId\n      amount\n      currency\n      balance\n    }\n  }\n": typeof types.ApproveDocument,
    "\n  mutation Reject($id: ID!, $reason: String!) {\n    rejectAdjustment(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.RejectDocument,
    "\n  fragment BulkJob on BulkAdjustment {\n    id\n    status\n    currency\n    reason\n    total\n    queued\n    applied\n    rejected\n    unknown\n    cancelled\n    etaSeconds\n    createdAt\n    startedAt\n    finishedAt\n    createdBy {\n      name\n      onBehalfOf\n    }\n  }\n": typeof types.BulkJobFragmentDoc,
    "\n  query BulkJobs($first: Int!, $after: String) {\n    bulkAdjustments(first: $first, after: $after) {\n      nodes {\n        ...BulkJob\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.BulkJobsDocument,
    "\n  query BulkJobView($id: ID!) {\n    bulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": typeof types.BulkJobViewDocument,
    "\n  subscription BulkProgress($id: ID!) {\n    bulkAdjustmentProgress(id: $id) {\n      ...BulkJob\n    }\n  }\n": typeof types.BulkProgressDocument,
    "\n  mutation CreateBulk($input: CreateBulkAdjustmentInput!) {\n    createBulkAdjustment(input: $input) {\n      id\n      status\n      total\n    }\n  }\n": typeof types.CreateBulkDocument,
    "\n  mutation AddBulkItems($id: ID!, $items: [BulkAdjustmentItemInput!]!) {\n    addBulkAdjustmentItems(id: $id, items: $items) {\n      id\n      total\n    }\n  }\n": typeof types.AddBulkItemsDocument,
    "\n  mutation StartBulk($id: ID!) {\n    startBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": typeof types.StartBulkDocument,
    "\n  mutation CancelBulk($id: ID!) {\n    cancelBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": typeof types.CancelBulkDocument,
    "\n  query Operators {\n    operators {\n      id\n      name\n      role\n      maxAdjustment\n      dailyLimit\n      tokenPrefix\n      lastUsedAt\n      createdAt\n      createdBy {\n        name\n        onBehalfOf\n      }\n    }\n  }\n": typeof types.OperatorsDocument,
    "\n  mutation CreateOperator($input: CreateOperatorInput!) {\n    createOperator(input: $input) {\n      token\n      operator {\n        id\n        name\n        role\n      }\n    }\n  }\n": typeof types.CreateOperatorDocument,
    "\n  mutation RevokeOperator($id: ID!) {\n    revokeOperator(id: $id) {\n      id\n      name\n      revokedAt\n    }\n  }\n": typeof types.RevokeOperatorDocument,
    "\n  mutation RetryBulk($id: ID!) {\n    retryBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": typeof types.RetryBulkDocument,
    "\n  query BulkItems($id: ID!, $status: AdjustmentStatus, $after: String) {\n    bulkAdjustment(id: $id) {\n      id\n      items(status: $status, first: 50, after: $after) {\n        nodes {\n          id\n          userId\n          amount\n          status\n          errorCode\n          settledAt\n        }\n        pageInfo {\n          endCursor\n          hasNextPage\n        }\n      }\n    }\n  }\n": typeof types.BulkItemsDocument,
    "\n  mutation ToolAdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n": typeof types.ToolAdjustCreditsDocument,
    "\n  subscription ToolUsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n": typeof types.ToolUsageChangedDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n  }\n": types.MeDocument,
    "\n  query Currencies {\n    currencies {\n      code\n      name\n    }\n  }\n": types.CurrenciesDocument,
    "\n  query Balances($userId: ID!) {\n    balances(userId: $userId, includeEmpty: true) {\n      currency\n      name\n      balance\n    }\n  }\n": types.BalancesDocument,
    "\n  subscription UsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      userId\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n": types.UsageChangedDocument,
    "\n  fragment HistoryRecord on AdjustmentRecord {\n    id\n    createdAt\n    settledAt\n    userId\n    amount\n    currency\n    reason\n    status\n    errorCode\n    balance\n    idempotencyKey\n    bulkAdjustmentId\n    actor {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n    approvedBy {\n      name\n      onBehalfOf\n    }\n    reverses {\n      id\n    }\n    reversedBy {\n      id\n      status\n    }\n  }\n": types.HistoryRecordFragmentDoc,
    "\n  query History($filter: AdjustmentFilter!, $first: Int!, $after: String) {\n    adjustments(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...HistoryRecord\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.HistoryDocument,
    "\n  query HistoryCsv($userId: ID!, $status: AdjustmentStatus) {\n    adjustmentsCsv(userId: $userId, status: $status)\n  }\n": types.HistoryCsvDocument,
    "\n  query Adjustment($id: ID!) {\n    adjustment(id: $id) {\n      ...HistoryRecord\n    }\n  }\n": types.AdjustmentDocument,
    "\n  mutation AdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n": types.AdjustCreditsDocument,
    "\n  mutation ReverseAdjustment($input: ReverseAdjustmentInput!) {\n    reverseAdjustment(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n    }\n  }\n": types.ReverseAdjustmentDocument,
    "\n  query PendingApprovals($first: Int!, $after: String) {\n    approvalRequests(status: PENDING, first: $first, after: $after) {\n      nodes {\n        id\n        userId\n        amount\n        currency\n        reason\n        createdAt\n        expiresAt\n        requestedBy {\n          name\n          operatorId\n          onBehalfOf\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.PendingApprovalsDocument,
    "\n  mutation Approve($id: ID!) {\n    approveAdjustment(id: $id) {\n      id\n      userId\n      amount\n      currency\n      balance\n    }\n  }\n": types.ApproveDocument,
    "\n  mutation Reject($id: ID!, $reason: String!) {\n    rejectAdjustment(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": types.RejectDocument,
    "\n  fragment BulkJob on BulkAdjustment {\n    id\n    status\n    currency\n    reason\n    total\n    queued\n    applied\n    rejected\n    unknown\n    cancelled\n    etaSeconds\n    createdAt\n    startedAt\n    finishedAt\n    createdBy {\n      name\n      onBehalfOf\n    }\n  }\n": types.BulkJobFragmentDoc,
    "\n  query BulkJobs($first: Int!, $after: String) {\n    bulkAdjustments(first: $first, after: $after) {\n      nodes {\n        ...BulkJob\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.BulkJobsDocument,
    "\n  query BulkJobView($id: ID!) {\n    bulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": types.BulkJobViewDocument,
    "\n  subscription BulkProgress($id: ID!) {\n    bulkAdjustmentProgress(id: $id) {\n      ...BulkJob\n    }\n  }\n": types.BulkProgressDocument,
    "\n  mutation CreateBulk($input: CreateBulkAdjustmentInput!) {\n    createBulkAdjustment(input: $input) {\n      id\n      status\n      total\n    }\n  }\n": types.CreateBulkDocument,
    "\n  mutation AddBulkItems($id: ID!, $items: [BulkAdjustmentItemInput!]!) {\n    addBulkAdjustmentItems(id: $id, items: $items) {\n      id\n      total\n    }\n  }\n": types.AddBulkItemsDocument,
    "\n  mutation StartBulk($id: ID!) {\n    startBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": types.StartBulkDocument,
    "\n  mutation CancelBulk($id: ID!) {\n    cancelBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": types.CancelBulkDocument,
    "\n  query Operators {\n    operators {\n      id\n      name\n      role\n      maxAdjustment\n      dailyLimit\n      tokenPrefix\n      lastUsedAt\n      createdAt\n      createdBy {\n        name\n        onBehalfOf\n      }\n    }\n  }\n": types.OperatorsDocument,
    "\n  mutation CreateOperator($input: CreateOperatorInput!) {\n    createOperator(input: $input) {\n      token\n      operator {\n        id\n        name\n        role\n      }\n    }\n  }\n": types.CreateOperatorDocument,
    "\n  mutation RevokeOperator($id: ID!) {\n    revokeOperator(id: $id) {\n      id\n      name\n      revokedAt\n    }\n  }\n": types.RevokeOperatorDocument,
    "\n  mutation RetryBulk($id: ID!) {\n    retryBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n": types.RetryBulkDocument,
    "\n  query BulkItems($id: ID!, $status: AdjustmentStatus, $after: String) {\n    bulkAdjustment(id: $id) {\n      id\n      items(status: $status, first: 50, after: $after) {\n        nodes {\n          id\n          userId\n          amount\n          status\n          errorCode\n          settledAt\n        }\n        pageInfo {\n          endCursor\n          hasNextPage\n        }\n      }\n    }\n  }\n": types.BulkItemsDocument,
    "\n  mutation ToolAdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n": types.ToolAdjustCreditsDocument,
    "\n  subscription ToolUsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n": types.ToolUsageChangedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n  }\n"): typeof import('./graphql').MeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Currencies {\n    currencies {\n      code\n      name\n    }\n  }\n"): typeof import('./graphql').CurrenciesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Balances($userId: ID!) {\n    balances(userId: $userId, includeEmpty: true) {\n      currency\n      name\n      balance\n    }\n  }\n"): typeof import('./graphql').BalancesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription UsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      userId\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n"): typeof import('./graphql').UsageChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment HistoryRecord on AdjustmentRecord {\n    id\n    createdAt\n    settledAt\n    userId\n    amount\n    currency\n    reason\n    status\n    errorCode\n    balance\n    idempotencyKey\n    bulkAdjustmentId\n    actor {\n      name\n      role\n      operatorId\n      onBehalfOf\n    }\n    approvedBy {\n      name\n      onBehalfOf\n    }\n    reverses {\n      id\n    }\n    reversedBy {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').HistoryRecordFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query History($filter: AdjustmentFilter!, $first: Int!, $after: String) {\n    adjustments(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...HistoryRecord\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').HistoryDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistoryCsv($userId: ID!, $status: AdjustmentStatus) {\n    adjustmentsCsv(userId: $userId, status: $status)\n  }\n"): typeof import('./graphql').HistoryCsvDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Adjustment($id: ID!) {\n    adjustment(id: $id) {\n      ...HistoryRecord\n    }\n  }\n"): typeof import('./graphql').AdjustmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n"): typeof import('./graphql').AdjustCreditsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReverseAdjustment($input: ReverseAdjustmentInput!) {\n    reverseAdjustment(input: $input) {\n      id\n      amount\n      currency\n      balance\n      replayed\n    }\n  }\n"): typeof import('./graphql').ReverseAdjustmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PendingApprovals($first: Int!, $after: String) {\n    approvalRequests(status: PENDING, first: $first, after: $after) {\n      nodes {\n        id\n        userId\n        amount\n        currency\n        reason\n        createdAt\n        expiresAt\n        requestedBy {\n          name\n          operatorId\n          onBehalfOf\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').PendingApprovalsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Approve($id: ID!) {\n    approveAdjustment(id: $id) {\n      id\n      userId\n      amount\n      currency\n      balance\n    }\n  }\n"): typeof import('./graphql').ApproveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Reject($id: ID!, $reason: String!) {\n    rejectAdjustment(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').RejectDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BulkJob on BulkAdjustment {\n    id\n    status\n    currency\n    reason\n    total\n    queued\n    applied\n    rejected\n    unknown\n    cancelled\n    etaSeconds\n    createdAt\n    startedAt\n    finishedAt\n    createdBy {\n      name\n      onBehalfOf\n    }\n  }\n"): typeof import('./graphql').BulkJobFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BulkJobs($first: Int!, $after: String) {\n    bulkAdjustments(first: $first, after: $after) {\n      nodes {\n        ...BulkJob\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').BulkJobsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BulkJobView($id: ID!) {\n    bulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n"): typeof import('./graphql').BulkJobViewDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription BulkProgress($id: ID!) {\n    bulkAdjustmentProgress(id: $id) {\n      ...BulkJob\n    }\n  }\n"): typeof import('./graphql').BulkProgressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBulk($input: CreateBulkAdjustmentInput!) {\n    createBulkAdjustment(input: $input) {\n      id\n      status\n      total\n    }\n  }\n"): typeof import('./graphql').CreateBulkDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddBulkItems($id: ID!, $items: [BulkAdjustmentItemInput!]!) {\n    addBulkAdjustmentItems(id: $id, items: $items) {\n      id\n      total\n    }\n  }\n"): typeof import('./graphql').AddBulkItemsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartBulk($id: ID!) {\n    startBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n"): typeof import('./graphql').StartBulkDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelBulk($id: ID!) {\n    cancelBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n"): typeof import('./graphql').CancelBulkDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Operators {\n    operators {\n      id\n      name\n      role\n      maxAdjustment\n      dailyLimit\n      tokenPrefix\n      lastUsedAt\n      createdAt\n      createdBy {\n        name\n        onBehalfOf\n      }\n    }\n  }\n"): typeof import('./graphql').OperatorsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOperator($input: CreateOperatorInput!) {\n    createOperator(input: $input) {\n      token\n      operator {\n        id\n        name\n        role\n      }\n    }\n  }\n"): typeof import('./graphql').CreateOperatorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeOperator($id: ID!) {\n    revokeOperator(id: $id) {\n      id\n      name\n      revokedAt\n    }\n  }\n"): typeof import('./graphql').RevokeOperatorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryBulk($id: ID!) {\n    retryBulkAdjustment(id: $id) {\n      ...BulkJob\n    }\n  }\n"): typeof import('./graphql').RetryBulkDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BulkItems($id: ID!, $status: AdjustmentStatus, $after: String) {\n    bulkAdjustment(id: $id) {\n      id\n      items(status: $status, first: 50, after: $after) {\n        nodes {\n          id\n          userId\n          amount\n          status\n          errorCode\n          settledAt\n        }\n        pageInfo {\n          endCursor\n          hasNextPage\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').BulkItemsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ToolAdjustCredits($input: AdjustCreditsInput!) {\n    adjustCredits(input: $input) {\n      id\n      balance\n      replayed\n      idempotencyKey\n    }\n  }\n"): typeof import('./graphql').ToolAdjustCreditsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ToolUsageChanged($userId: ID!) {\n    usageChanged(userId: $userId) {\n      id\n      currency\n      delta\n      balance\n      occurredAt\n    }\n  }\n"): typeof import('./graphql').ToolUsageChangedDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
