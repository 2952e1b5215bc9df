/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** A grant (positive amount) or deduction (negative amount) with an audit reason. */
export type AdjustCreditsInput = {
  /** Positive grants, negative deducts; never 0; at most 2,000,000,000 either way. */
  amount: number;
  /** Virtual currency code; defaults to CRD (Credits). */
  currency?: string;
  /** Replaying the same key returns the first result instead of adjusting again (for as long as the journal keeps the record: always). */
  idempotencyKey?: string | null | undefined;
  /** Audit note shown on the RevenueCat dashboard, 3 to 500 characters; include a ticket reference. */
  reason: string;
  /** The RevenueCat customer id, which is the Clerk user_id. */
  userId: string | number;
};

/** Every given field must match (AND). */
export type AdjustmentFilter = {
  bulkAdjustmentId?: string | number | null | undefined;
  /** Created at or after this instant. */
  createdAfter?: string | null | undefined;
  /** Created before this instant. */
  createdBefore?: string | null | undefined;
  currency?: string | null | undefined;
  /** Adjustments made with this operator's credential. */
  operatorId?: string | number | null | undefined;
  /** Any of these. */
  status?: Array<AdjustmentStatus> | null | undefined;
  userId?: string | number | null | undefined;
};

/** QUEUED (a bulk item not sent yet), PENDING (sent or about to be), APPLIED, REJECTED (refused for good), UNKNOWN (RevenueCat may or may not have applied it: retry with the same idempotency key to settle it), CANCELLED. */
export type AdjustmentStatus =
  | 'APPLIED'
  | 'CANCELLED'
  | 'PENDING'
  | 'QUEUED'
  | 'REJECTED'
  | 'UNKNOWN';

/** PENDING until a second person decides it, or EXPIRED 24 hours after it was made. */
export type ApprovalStatus =
  | 'APPROVED'
  | 'EXPIRED'
  | 'PENDING'
  | 'REJECTED';

/** One customer of a bulk adjustment, validated like adjustCredits. */
export type BulkAdjustmentItemInput = {
  /** Positive grants, negative deducts; never 0; at most 2,000,000,000 either way. */
  amount: number;
  /** The RevenueCat customer id (the Clerk user_id); at most once per job. */
  userId: string | number;
};

/** DRAFT (items being added), RUNNING (items being sent), COMPLETED (every item settled), CANCELLED. */
export type BulkAdjustmentStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'DRAFT'
  | 'RUNNING';

/** A bulk adjustment: every item shares its currency and reason. */
export type CreateBulkAdjustmentInput = {
  /** Virtual currency code; defaults to CRD (Credits). */
  currency?: string;
  /** Creating again with the same key answers the same job instead of a second one. */
  idempotencyKey?: string | null | undefined;
  /** Audit note of every item, shown on the RevenueCat dashboard, 3 to 500 characters; include the incident or ticket reference. */
  reason: string;
};

/** A new operator; SUPERVISORs may create VIEWERs and AGENTs, ADMINs anyone. */
export type CreateOperatorInput = {
  /** Bound on the sum of |amount| applied in one UTC day; null: none. */
  dailyLimit?: number | null | undefined;
  /** Bound on |amount| of one adjustment; null: none. */
  maxAdjustment?: number | null | undefined;
  /** Who holds the token, as audits will show it (1 to 100 printable characters). */
  name: string;
  role: OperatorRole;
};

/** Each role includes the ones before it: VIEWER < AGENT < SUPERVISOR < ADMIN. */
export type OperatorRole =
  | 'ADMIN'
  | 'AGENT'
  | 'SUPERVISOR'
  | 'VIEWER';

/** Undo one APPLIED adjustment, whole, exactly once. */
export type ReverseAdjustmentInput = {
  /** The id of the adjustment to reverse (CreditAdjustment.id, AdjustmentRecord.id). */
  adjustmentId: string | number;
  /** Replaying the same key returns the first result (or error) instead of reversing again; also accepted as an Idempotency-Key header. */
  idempotencyKey?: string | null | undefined;
  /** Why it is reversed: 3 to 500 characters, sent to RevenueCat as the reference; include a ticket reference. */
  reason: string;
};

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { name: string, role: OperatorRole, operatorId: string | null, onBehalfOf: string | null } };

export type CurrenciesQueryVariables = Exact<{ [key: string]: never; }>;


export type CurrenciesQuery = { currencies: Array<{ code: string, name: string }> };

export type BalancesQueryVariables = Exact<{
  userId: string | number;
}>;


export type BalancesQuery = { balances: Array<{ currency: string, name: string | null, balance: number }> };

export type UsageChangedSubscriptionVariables = Exact<{
  userId: string | number;
}>;


export type UsageChangedSubscription = { usageChanged: { id: string, userId: string, currency: string, delta: number, balance: number, occurredAt: string } };

export type HistoryRecordFragment = { id: string, createdAt: string, settledAt: string | null, userId: string, amount: number, currency: string, reason: string, status: AdjustmentStatus, errorCode: string | null, balance: number | null, idempotencyKey: string, bulkAdjustmentId: string | null, actor: { name: string, role: OperatorRole, operatorId: string | null, onBehalfOf: string | null }, approvedBy: { name: string, onBehalfOf: string | null } | null, reverses: { id: string } | null, reversedBy: { id: string, status: AdjustmentStatus } | null };

export type HistoryQueryVariables = Exact<{
  filter: AdjustmentFilter;
  first: number;
  after?: string | null | undefined;
}>;


export type HistoryQuery = { adjustments: { nodes: Array<{ id: string, createdAt: string, settledAt: string | null, userId: string, amount: number, currency: string, reason: string, status: AdjustmentStatus, errorCode: string | null, balance: number | null, idempotencyKey: string, bulkAdjustmentId: string | null, actor: { name: string, role: OperatorRole, operatorId: string | null, onBehalfOf: string | null }, approvedBy: { name: string, onBehalfOf: string | null } | null, reverses: { id: string } | null, reversedBy: { id: string, status: AdjustmentStatus } | null }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type HistoryCsvQueryVariables = Exact<{
  userId: string | number;
  status?: AdjustmentStatus | null | undefined;
}>;


export type HistoryCsvQuery = { adjustmentsCsv: string };

export type AdjustmentQueryVariables = Exact<{
  id: string | number;
}>;


export type AdjustmentQuery = { adjustment: { id: string, createdAt: string, settledAt: string | null, userId: string, amount: number, currency: string, reason: string, status: AdjustmentStatus, errorCode: string | null, balance: number | null, idempotencyKey: string, bulkAdjustmentId: string | null, actor: { name: string, role: OperatorRole, operatorId: string | null, onBehalfOf: string | null }, approvedBy: { name: string, onBehalfOf: string | null } | null, reverses: { id: string } | null, reversedBy: { id: string, status: AdjustmentStatus } | null } | null };

export type AdjustCreditsMutationVariables = Exact<{
  input: AdjustCreditsInput;
}>;


export type AdjustCreditsMutation = { adjustCredits: { id: string, amount: number, currency: string, balance: number, replayed: boolean, idempotencyKey: string | null } | null };

export type ReverseAdjustmentMutationVariables = Exact<{
  input: ReverseAdjustmentInput;
}>;


export type ReverseAdjustmentMutation = { reverseAdjustment: { id: string, amount: number, currency: string, balance: number, replayed: boolean } | null };

export type PendingApprovalsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type PendingApprovalsQuery = { approvalRequests: { nodes: Array<{ id: string, userId: string, amount: number, currency: string, reason: string, createdAt: string, expiresAt: string, requestedBy: { name: string, operatorId: string | null, onBehalfOf: string | null } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type ApproveMutationVariables = Exact<{
  id: string | number;
}>;


export type ApproveMutation = { approveAdjustment: { id: string, userId: string, amount: number, currency: string, balance: number } | null };

export type RejectMutationVariables = Exact<{
  id: string | number;
  reason: string;
}>;


export type RejectMutation = { rejectAdjustment: { id: string, status: ApprovalStatus } | null };

export type BulkJobFragment = { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } };

export type BulkJobsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type BulkJobsQuery = { bulkAdjustments: { nodes: Array<{ id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type BulkJobViewQueryVariables = Exact<{
  id: string | number;
}>;


export type BulkJobViewQuery = { bulkAdjustment: { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } } | null };

export type BulkProgressSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type BulkProgressSubscription = { bulkAdjustmentProgress: { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } } };

export type CreateBulkMutationVariables = Exact<{
  input: CreateBulkAdjustmentInput;
}>;


export type CreateBulkMutation = { createBulkAdjustment: { id: string, status: BulkAdjustmentStatus, total: number } | null };

export type AddBulkItemsMutationVariables = Exact<{
  id: string | number;
  items: Array<BulkAdjustmentItemInput> | BulkAdjustmentItemInput;
}>;


export type AddBulkItemsMutation = { addBulkAdjustmentItems: { id: string, total: number } | null };

export type StartBulkMutationVariables = Exact<{
  id: string | number;
}>;


export type StartBulkMutation = { startBulkAdjustment: { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } } | null };

export type CancelBulkMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelBulkMutation = { cancelBulkAdjustment: { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } } | null };

export type OperatorsQueryVariables = Exact<{ [key: string]: never; }>;


export type OperatorsQuery = { operators: Array<{ id: string, name: string, role: OperatorRole, maxAdjustment: number | null, dailyLimit: number | null, tokenPrefix: string, lastUsedAt: string | null, createdAt: string, createdBy: { name: string, onBehalfOf: string | null } }> };

export type CreateOperatorMutationVariables = Exact<{
  input: CreateOperatorInput;
}>;


export type CreateOperatorMutation = { createOperator: { token: string, operator: { id: string, name: string, role: OperatorRole } } | null };

export type RevokeOperatorMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeOperatorMutation = { revokeOperator: { id: string, name: string, revokedAt: string | null } | null };

export type RetryBulkMutationVariables = Exact<{
  id: string | number;
}>;


export type RetryBulkMutation = { retryBulkAdjustment: { id: string, status: BulkAdjustmentStatus, currency: string, reason: string, total: number, queued: number, applied: number, rejected: number, unknown: number, cancelled: number, etaSeconds: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, createdBy: { name: string, onBehalfOf: string | null } } | null };

export type BulkItemsQueryVariables = Exact<{
  id: string | number;
  status?: AdjustmentStatus | null | undefined;
  after?: string | null | undefined;
}>;


export type BulkItemsQuery = { bulkAdjustment: { id: string, items: { nodes: Array<{ id: string, userId: string, amount: number, status: AdjustmentStatus, errorCode: string | null, settledAt: string | null }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } } | null };

export type ToolAdjustCreditsMutationVariables = Exact<{
  input: AdjustCreditsInput;
}>;


export type ToolAdjustCreditsMutation = { adjustCredits: { id: string, balance: number, replayed: boolean, idempotencyKey: string | null } | null };

export type ToolUsageChangedSubscriptionVariables = Exact<{
  userId: string | number;
}>;


export type ToolUsageChangedSubscription = { usageChanged: { id: string, currency: string, delta: number, balance: number, occurredAt: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const HistoryRecordFragmentDoc = new TypedDocumentString(`
    fragment HistoryRecord on AdjustmentRecord {
  id
  createdAt
  settledAt
  userId
  amount
  currency
  reason
  status
  errorCode
  balance
  idempotencyKey
  bulkAdjustmentId
  actor {
    name
    role
    operatorId
    onBehalfOf
  }
  approvedBy {
    name
    onBehalfOf
  }
  reverses {
    id
  }
  reversedBy {
    id
    status
  }
}
    `, {"fragmentName":"HistoryRecord"}) as unknown as TypedDocumentString<HistoryRecordFragment, unknown>;
export const BulkJobFragmentDoc = new TypedDocumentString(`
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}
    `, {"fragmentName":"BulkJob"}) as unknown as TypedDocumentString<BulkJobFragment, unknown>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    name
    role
    operatorId
    onBehalfOf
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const CurrenciesDocument = new TypedDocumentString(`
    query Currencies {
  currencies {
    code
    name
  }
}
    `) as unknown as TypedDocumentString<CurrenciesQuery, CurrenciesQueryVariables>;
export const BalancesDocument = new TypedDocumentString(`
    query Balances($userId: ID!) {
  balances(userId: $userId, includeEmpty: true) {
    currency
    name
    balance
  }
}
    `) as unknown as TypedDocumentString<BalancesQuery, BalancesQueryVariables>;
export const UsageChangedDocument = new TypedDocumentString(`
    subscription UsageChanged($userId: ID!) {
  usageChanged(userId: $userId) {
    id
    userId
    currency
    delta
    balance
    occurredAt
  }
}
    `) as unknown as TypedDocumentString<UsageChangedSubscription, UsageChangedSubscriptionVariables>;
export const HistoryDocument = new TypedDocumentString(`
    query History($filter: AdjustmentFilter!, $first: Int!, $after: String) {
  adjustments(filter: $filter, first: $first, after: $after) {
    nodes {
      ...HistoryRecord
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    fragment HistoryRecord on AdjustmentRecord {
  id
  createdAt
  settledAt
  userId
  amount
  currency
  reason
  status
  errorCode
  balance
  idempotencyKey
  bulkAdjustmentId
  actor {
    name
    role
    operatorId
    onBehalfOf
  }
  approvedBy {
    name
    onBehalfOf
  }
  reverses {
    id
  }
  reversedBy {
    id
    status
  }
}`) as unknown as TypedDocumentString<HistoryQuery, HistoryQueryVariables>;
export const HistoryCsvDocument = new TypedDocumentString(`
    query HistoryCsv($userId: ID!, $status: AdjustmentStatus) {
  adjustmentsCsv(userId: $userId, status: $status)
}
    `) as unknown as TypedDocumentString<HistoryCsvQuery, HistoryCsvQueryVariables>;
export const AdjustmentDocument = new TypedDocumentString(`
    query Adjustment($id: ID!) {
  adjustment(id: $id) {
    ...HistoryRecord
  }
}
    fragment HistoryRecord on AdjustmentRecord {
  id
  createdAt
  settledAt
  userId
  amount
  currency
  reason
  status
  errorCode
  balance
  idempotencyKey
  bulkAdjustmentId
  actor {
    name
    role
    operatorId
    onBehalfOf
  }
  approvedBy {
    name
    onBehalfOf
  }
  reverses {
    id
  }
  reversedBy {
    id
    status
  }
}`) as unknown as TypedDocumentString<AdjustmentQuery, AdjustmentQueryVariables>;
export const AdjustCreditsDocument = new TypedDocumentString(`
    mutation AdjustCredits($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) {
    id
    amount
    currency
    balance
    replayed
    idempotencyKey
  }
}
    `) as unknown as TypedDocumentString<AdjustCreditsMutation, AdjustCreditsMutationVariables>;
export const ReverseAdjustmentDocument = new TypedDocumentString(`
    mutation ReverseAdjustment($input: ReverseAdjustmentInput!) {
  reverseAdjustment(input: $input) {
    id
    amount
    currency
    balance
    replayed
  }
}
    `) as unknown as TypedDocumentString<ReverseAdjustmentMutation, ReverseAdjustmentMutationVariables>;
export const PendingApprovalsDocument = new TypedDocumentString(`
    query PendingApprovals($first: Int!, $after: String) {
  approvalRequests(status: PENDING, first: $first, after: $after) {
    nodes {
      id
      userId
      amount
      currency
      reason
      createdAt
      expiresAt
      requestedBy {
        name
        operatorId
        onBehalfOf
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    `) as unknown as TypedDocumentString<PendingApprovalsQuery, PendingApprovalsQueryVariables>;
export const ApproveDocument = new TypedDocumentString(`
    mutation Approve($id: ID!) {
  approveAdjustment(id: $id) {
    id
    userId
    amount
    currency
    balance
  }
}
    `) as unknown as TypedDocumentString<ApproveMutation, ApproveMutationVariables>;
export const RejectDocument = new TypedDocumentString(`
    mutation Reject($id: ID!, $reason: String!) {
  rejectAdjustment(id: $id, reason: $reason) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RejectMutation, RejectMutationVariables>;
export const BulkJobsDocument = new TypedDocumentString(`
    query BulkJobs($first: Int!, $after: String) {
  bulkAdjustments(first: $first, after: $after) {
    nodes {
      ...BulkJob
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<BulkJobsQuery, BulkJobsQueryVariables>;
export const BulkJobViewDocument = new TypedDocumentString(`
    query BulkJobView($id: ID!) {
  bulkAdjustment(id: $id) {
    ...BulkJob
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<BulkJobViewQuery, BulkJobViewQueryVariables>;
export const BulkProgressDocument = new TypedDocumentString(`
    subscription BulkProgress($id: ID!) {
  bulkAdjustmentProgress(id: $id) {
    ...BulkJob
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<BulkProgressSubscription, BulkProgressSubscriptionVariables>;
export const CreateBulkDocument = new TypedDocumentString(`
    mutation CreateBulk($input: CreateBulkAdjustmentInput!) {
  createBulkAdjustment(input: $input) {
    id
    status
    total
  }
}
    `) as unknown as TypedDocumentString<CreateBulkMutation, CreateBulkMutationVariables>;
export const AddBulkItemsDocument = new TypedDocumentString(`
    mutation AddBulkItems($id: ID!, $items: [BulkAdjustmentItemInput!]!) {
  addBulkAdjustmentItems(id: $id, items: $items) {
    id
    total
  }
}
    `) as unknown as TypedDocumentString<AddBulkItemsMutation, AddBulkItemsMutationVariables>;
export const StartBulkDocument = new TypedDocumentString(`
    mutation StartBulk($id: ID!) {
  startBulkAdjustment(id: $id) {
    ...BulkJob
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<StartBulkMutation, StartBulkMutationVariables>;
export const CancelBulkDocument = new TypedDocumentString(`
    mutation CancelBulk($id: ID!) {
  cancelBulkAdjustment(id: $id) {
    ...BulkJob
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<CancelBulkMutation, CancelBulkMutationVariables>;
export const OperatorsDocument = new TypedDocumentString(`
    query Operators {
  operators {
    id
    name
    role
    maxAdjustment
    dailyLimit
    tokenPrefix
    lastUsedAt
    createdAt
    createdBy {
      name
      onBehalfOf
    }
  }
}
    `) as unknown as TypedDocumentString<OperatorsQuery, OperatorsQueryVariables>;
export const CreateOperatorDocument = new TypedDocumentString(`
    mutation CreateOperator($input: CreateOperatorInput!) {
  createOperator(input: $input) {
    token
    operator {
      id
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<CreateOperatorMutation, CreateOperatorMutationVariables>;
export const RevokeOperatorDocument = new TypedDocumentString(`
    mutation RevokeOperator($id: ID!) {
  revokeOperator(id: $id) {
    id
    name
    revokedAt
  }
}
    `) as unknown as TypedDocumentString<RevokeOperatorMutation, RevokeOperatorMutationVariables>;
export const RetryBulkDocument = new TypedDocumentString(`
    mutation RetryBulk($id: ID!) {
  retryBulkAdjustment(id: $id) {
    ...BulkJob
  }
}
    fragment BulkJob on BulkAdjustment {
  id
  status
  currency
  reason
  total
  queued
  applied
  rejected
  unknown
  cancelled
  etaSeconds
  createdAt
  startedAt
  finishedAt
  createdBy {
    name
    onBehalfOf
  }
}`) as unknown as TypedDocumentString<RetryBulkMutation, RetryBulkMutationVariables>;
export const BulkItemsDocument = new TypedDocumentString(`
    query BulkItems($id: ID!, $status: AdjustmentStatus, $after: String) {
  bulkAdjustment(id: $id) {
    id
    items(status: $status, first: 50, after: $after) {
      nodes {
        id
        userId
        amount
        status
        errorCode
        settledAt
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}
    `) as unknown as TypedDocumentString<BulkItemsQuery, BulkItemsQueryVariables>;
export const ToolAdjustCreditsDocument = new TypedDocumentString(`
    mutation ToolAdjustCredits($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) {
    id
    balance
    replayed
    idempotencyKey
  }
}
    `) as unknown as TypedDocumentString<ToolAdjustCreditsMutation, ToolAdjustCreditsMutationVariables>;
export const ToolUsageChangedDocument = new TypedDocumentString(`
    subscription ToolUsageChanged($userId: ID!) {
  usageChanged(userId: $userId) {
    id
    currency
    delta
    balance
    occurredAt
  }
}
    `) as unknown as TypedDocumentString<ToolUsageChangedSubscription, ToolUsageChangedSubscriptionVariables>;