import { errorCode, GraphQLClient, GraphQLResponse } from './graphql-client';
import { waitFor } from './ws-client';

export const JOB_FIELDS = `id currency reason status total queued applied rejected unknown cancelled etaSeconds createdAt startedAt finishedAt
  createdBy { operatorId name role onBehalfOf }`;

export interface Job {
  id: string;
  currency: string;
  reason: string;
  status: 'DRAFT' | 'RUNNING' | 'COMPLETED' | 'CANCELLED';
  total: number;
  queued: number;
  applied: number;
  rejected: number;
  unknown: number;
  cancelled: number;
  etaSeconds: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  createdBy: { operatorId: string | null; name: string; role: string; onBehalfOf: string | null };
}

export const CREATE = `mutation Create($input: CreateBulkAdjustmentInput!) { createBulkAdjustment(input: $input) { ${JOB_FIELDS} } }`;
export const ADD = `mutation Add($id: ID!, $items: [BulkAdjustmentItemInput!]!) { addBulkAdjustmentItems(id: $id, items: $items) { ${JOB_FIELDS} } }`;
export const START = `mutation Start($id: ID!) { startBulkAdjustment(id: $id) { ${JOB_FIELDS} } }`;
export const CANCEL = `mutation Cancel($id: ID!) { cancelBulkAdjustment(id: $id) { ${JOB_FIELDS} } }`;
export const GET = `query Get($id: ID!) { bulkAdjustment(id: $id) { ${JOB_FIELDS} } }`;
export const PROGRESS = `subscription Progress($id: ID!) { bulkAdjustmentProgress(id: $id) { id status total queued applied rejected unknown cancelled etaSeconds } }`;

export type Item = { userId: string; amount: number };

/** Each call's job, or throws with the response (so a test failing here says why). */
export class BulkClient {
  constructor(readonly client: GraphQLClient) {}

  async create(reason: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): Promise<Job> {
    return this.ok('createBulkAdjustment', await this.client.query(CREATE, { input: { reason, ...extra } }, { headers }));
  }

  /** Adds in calls of at most 500. */
  async add(id: string, items: Item[]): Promise<Job> {
    let job: Job | undefined;
    for (let i = 0; i < items.length; i += 500) job = this.ok('addBulkAdjustmentItems', await this.client.query(ADD, { id, items: items.slice(i, i + 500) }));
    return job!;
  }

  async start(id: string): Promise<Job> {
    return this.ok('startBulkAdjustment', await this.client.query(START, { id }));
  }

  async cancel(id: string): Promise<Job> {
    return this.ok('cancelBulkAdjustment', await this.client.query(CANCEL, { id }));
  }

  async get(id: string): Promise<Job | null> {
    const response = await this.client.query<{ bulkAdjustment: Job | null }>(GET, { id });
    if (response.body.errors) throw new Error(`bulkAdjustment failed: ${JSON.stringify(response.body.errors)}`);
    return response.body.data!.bulkAdjustment;
  }

  /** A started job of `items`. */
  async run(reason: string, items: Item[]): Promise<Job> {
    const job = await this.create(reason);
    await this.add(job.id, items);
    return this.start(job.id);
  }

  async waitFor(id: string, status: Job['status'], timeoutMs = 20_000): Promise<Job> {
    let job: Job | null = null;
    await waitFor(
      async () => {
        job = await this.get(id);
        return job?.status === status;
      },
      timeoutMs,
      `bulk adjustment ${id} to be ${status}`,
    );
    return job!;
  }

  private ok(field: string, response: GraphQLResponse): Job {
    const job = response.body.data?.[field] as Job | undefined | null;
    if (!job) throw new Error(`${field} failed (HTTP ${response.status}, ${String(errorCode(response))}): ${JSON.stringify(response.body.errors)}`);
    return job;
  }
}
