import { graphql } from './gql';

// Every operation the console sends. `npm run codegen` types them from schema.gql (src/gql/).

export const MeQuery = graphql(`
  query Me {
    me {
      name
      role
      operatorId
      onBehalfOf
    }
  }
`);

export const CurrenciesQuery = graphql(`
  query Currencies {
    currencies {
      code
      name
    }
  }
`);

export const BalancesQuery = graphql(`
  query Balances($userId: ID!) {
    balances(userId: $userId, includeEmpty: true) {
      currency
      name
      balance
    }
  }
`);

export const UsageChangedSubscription = graphql(`
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
`);

export const HistoryRecordFields = graphql(`
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
`);

export const HistoryQuery = graphql(`
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
`);

/** The customer's whole history as CSV, in one read: the gateway pages the journal and quotes the cells. */
export const HistoryCsvQuery = graphql(`
  query HistoryCsv($userId: ID!, $status: AdjustmentStatus) {
    adjustmentsCsv(userId: $userId, status: $status)
  }
`);

export const AdjustmentQuery = graphql(`
  query Adjustment($id: ID!) {
    adjustment(id: $id) {
      ...HistoryRecord
    }
  }
`);

export const AdjustCreditsMutation = graphql(`
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
`);

export const ReverseAdjustmentMutation = graphql(`
  mutation ReverseAdjustment($input: ReverseAdjustmentInput!) {
    reverseAdjustment(input: $input) {
      id
      amount
      currency
      balance
      replayed
    }
  }
`);

export const PendingApprovalsQuery = graphql(`
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
`);

export const ApproveMutation = graphql(`
  mutation Approve($id: ID!) {
    approveAdjustment(id: $id) {
      id
      userId
      amount
      currency
      balance
    }
  }
`);

export const RejectMutation = graphql(`
  mutation Reject($id: ID!, $reason: String!) {
    rejectAdjustment(id: $id, reason: $reason) {
      id
      status
    }
  }
`);

export const BulkJobFields = graphql(`
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
`);

export const BulkJobsQuery = graphql(`
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
`);

export const BulkJobQuery = graphql(`
  query BulkJobView($id: ID!) {
    bulkAdjustment(id: $id) {
      ...BulkJob
    }
  }
`);

export const BulkProgressSubscription = graphql(`
  subscription BulkProgress($id: ID!) {
    bulkAdjustmentProgress(id: $id) {
      ...BulkJob
    }
  }
`);

export const CreateBulkMutation = graphql(`
  mutation CreateBulk($input: CreateBulkAdjustmentInput!) {
    createBulkAdjustment(input: $input) {
      id
      status
      total
    }
  }
`);

export const AddBulkItemsMutation = graphql(`
  mutation AddBulkItems($id: ID!, $items: [BulkAdjustmentItemInput!]!) {
    addBulkAdjustmentItems(id: $id, items: $items) {
      id
      total
    }
  }
`);

export const StartBulkMutation = graphql(`
  mutation StartBulk($id: ID!) {
    startBulkAdjustment(id: $id) {
      ...BulkJob
    }
  }
`);

export const CancelBulkMutation = graphql(`
  mutation CancelBulk($id: ID!) {
    cancelBulkAdjustment(id: $id) {
      ...BulkJob
    }
  }
`);

export const OperatorsQuery = graphql(`
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
`);

export const CreateOperatorMutation = graphql(`
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
`);

export const RevokeOperatorMutation = graphql(`
  mutation RevokeOperator($id: ID!) {
    revokeOperator(id: $id) {
      id
      name
      revokedAt
    }
  }
`);

export const RetryBulkMutation = graphql(`
  mutation RetryBulk($id: ID!) {
    retryBulkAdjustment(id: $id) {
      ...BulkJob
    }
  }
`);

export const BulkItemsQuery = graphql(`
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
`);
