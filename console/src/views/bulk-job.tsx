import { useEffect, useState } from 'preact/hooks';
import { ErrorNote, Link } from '../components';
import type { BulkJobFragment } from '../gql/graphql';
import { actorText, atLeast, formatTime } from '../lib/format';
import { hrefOf } from '../lib/router';
import { BulkJobQuery, BulkProgressSubscription, CancelBulkMutation, StartBulkMutation } from '../operations';
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

  const act = async (action: 'start' | 'cancel') => {
    setBusy(true);
    setError(undefined);
    try {
      const result =
        action === 'start' ? (await gateway.request(StartBulkMutation, { id })).startBulkAdjustment : (await gateway.request(CancelBulkMutation, { id })).cancelBulkAdjustment;
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
            </div>
          )}
        </section>
      )}
    </>
  );
}
