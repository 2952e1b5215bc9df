import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNote, Link } from '../components';
import type { AdjustmentStatus, BulkItemsQuery as BulkItemsResult, BulkJobFragment } from '../gql/graphql';
import { actorText, atLeast, formatAmount, formatTime } from '../lib/format';
import { hrefOf } from '../lib/router';
import { BulkItemsQuery, BulkJobQuery, BulkProgressSubscription, CancelBulkMutation, RetryBulkMutation, StartBulkMutation } from '../operations';
import { useSession } from '../session';
import { progressText } from './bulk-jobs';

export function BulkJobView({ id }: { id: string }) {
  const { gateway, me } = useSession();
  const [job, setJob] = useState<BulkJobFragment | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  // Bumped to follow the job again after Start: the progress stream ends when a job does.
  const [follow, setFollow] = useState(0);
  const isAdmin = atLeast(me.role, 'ADMIN');

  useEffect(() => {
    let active = true;
    setError(undefined);
    const unsubscribe = gateway.subscribe(
      BulkProgressSubscription,
      { id },
      ({ bulkAdjustmentProgress }) => active && setJob(bulkAdjustmentProgress),
      (subscriptionError) => active && setError(subscriptionError),
    );
    gateway.request(BulkJobQuery, { id }).then(
      // The stream's state wins over a read that answered later.
      ({ bulkAdjustment }) => active && setJob((current) => (current === undefined ? bulkAdjustment : current)),
      (requestError: unknown) => active && setError(requestError),
    );
    return () => {
      active = false;
      unsubscribe();
    };
  }, [gateway, id, follow]);

  const act = async (action: 'start' | 'cancel' | 'retry') => {
    setBusy(true);
    setError(undefined);
    try {
      const result =
        action === 'start'
          ? (await gateway.request(StartBulkMutation, { id })).startBulkAdjustment
          : action === 'cancel'
            ? (await gateway.request(CancelBulkMutation, { id })).cancelBulkAdjustment
            : (await gateway.request(RetryBulkMutation, { id })).retryBulkAdjustment;
      if (result) setJob(result);
      setFollow((n) => n + 1);
    } catch (actionError) {
      setError(actionError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p>
        <Link href={hrefOf({ view: 'bulk' })}>← Bulk jobs</Link>
      </p>
      <h1>
        Bulk job <code>{id}</code>
      </h1>
      <ErrorNote error={error} />
      {job === undefined && !error && <p>Loading…</p>}
      {job === null && <p>No bulk job has this id.</p>}
      {job && (
        <section class="card" aria-labelledby="job-progress-heading">
          <h2 id="job-progress-heading">
            <span class={`badge job-${job.status.toLowerCase()}`}>{job.status}</span> {job.reason}
          </h2>
          <p role="status" class="progress-text">
            {progressText(job)}
          </p>
          <progress max={Math.max(job.total, 1)} value={job.applied + job.rejected + job.unknown + job.cancelled} aria-label="Settled items" />
          <dl class="facts">
            <dt>Currency</dt>
            <dd>
              <code>{job.currency}</code>
            </dd>
            <dt>Rejected</dt>
            <dd>{job.rejected}</dd>
            <dt>Unknown</dt>
            <dd>{job.unknown}</dd>
            {job.etaSeconds !== null && (
              <>
                <dt>Time left</dt>
                <dd>about {Math.ceil(job.etaSeconds / 60)} min</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>
              {formatTime(job.createdAt)} by {actorText(job.createdBy)}
            </dd>
            {job.startedAt && (
              <>
                <dt>Started</dt>
                <dd>{formatTime(job.startedAt)}</dd>
              </>
            )}
            {job.finishedAt && (
              <>
                <dt>Finished</dt>
                <dd>{formatTime(job.finishedAt)}</dd>
              </>
            )}
          </dl>
          {isAdmin && (
            <div class="buttons">
              {job.status === 'DRAFT' && (
                <button type="button" disabled={busy} onClick={() => void act('start')}>
                  Start
                </button>
              )}
              {(job.status === 'DRAFT' || job.status === 'RUNNING') && (
                <button type="button" class="danger" disabled={busy} onClick={() => void act('cancel')}>
                  Cancel
                </button>
              )}
              {job.status === 'COMPLETED' && job.unknown > 0 && (
                <button type="button" disabled={busy} onClick={() => void act('retry')}>
                  Retry unknown items
                </button>
              )}
            </div>
          )}
        </section>
      )}
      {job && <JobItems id={id} settled={job.applied + job.rejected + job.unknown + job.cancelled} />}
    </>
  );
}

type Item = NonNullable<BulkItemsResult['bulkAdjustment']>['items']['nodes'][number];

const ITEM_STATUSES: AdjustmentStatus[] = ['REJECTED', 'UNKNOWN', 'APPLIED', 'QUEUED', 'PENDING', 'CANCELLED'];

/** The job's items (journal records), to see which customers were refused and why. */
function JobItems({ id, settled }: { id: string; settled: number }) {
  const { gateway } = useSession();
  const [status, setStatus] = useState<AdjustmentStatus | ''>('');
  const [items, setItems] = useState<Item[] | undefined>(undefined);
  const [page, setPage] = useState<{ endCursor: string | null; hasNextPage: boolean }>({ endCursor: null, hasNextPage: false });
  const [error, setError] = useState<unknown>(undefined);
  // Only the newest read may fill the table: an older one may answer after a filter changed.
  const generation = useRef(0);

  const load = async (after: string | null) => {
    const mine = after ? generation.current : ++generation.current;
    try {
      const { bulkAdjustment } = await gateway.request(BulkItemsQuery, { id, status: status === '' ? null : status, after });
      if (!bulkAdjustment || mine !== generation.current) return;
      setItems((current) => (after ? [...(current ?? []), ...bulkAdjustment.items.nodes] : bulkAdjustment.items.nodes));
      setPage(bulkAdjustment.items.pageInfo);
      setError(undefined);
    } catch (requestError) {
      setError(requestError);
    }
  };

  // Read again as items settle (at most once a second: the progress stream's pace).
  useEffect(() => {
    void load(null);
  }, [gateway, id, status, settled]);

  return (
    <section class="card" aria-labelledby="job-items-heading">
      <div class="section-head">
        <h2 id="job-items-heading">Items</h2>
        <div class="inline">
          <label for="item-status">Item status</label>
          <select id="item-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as AdjustmentStatus | '')}>
            <option value="">All statuses</option>
            {ITEM_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNote error={error} />
      <div class="table-wrap">
        <table aria-label="Items">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Status</th>
              <th scope="col">Settled</th>
            </tr>
          </thead>
          <tbody>
            {items?.length === 0 && (
              <tr>
                <td colSpan={4}>No items{status ? ` with status ${status}` : ''}.</td>
              </tr>
            )}
            {items?.map((item) => (
              <tr key={item.id}>
                <td>
                  <Link href={hrefOf({ view: 'customer', userId: item.userId })}>{item.userId}</Link>
                </td>
                <td class={`num ${item.amount < 0 ? 'negative' : 'positive'}`}>{formatAmount(item.amount, true)}</td>
                <td>
                  <span class={`badge status-${item.status.toLowerCase()}`}>{item.status}</span> {item.errorCode && <code>{item.errorCode}</code>}
                </td>
                <td>{formatTime(item.settledAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.hasNextPage && (
        <button type="button" class="secondary" onClick={() => void load(page.endCursor)}>
          Load more
        </button>
      )}
    </section>
  );
}
