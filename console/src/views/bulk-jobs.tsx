import { useEffect, useMemo, useState } from 'preact/hooks';
import { ErrorNote, ErrorText, Link, TableNotice } from '../components';
import type { BulkJobFragment } from '../gql/graphql';
import { parseBulkItems, type LineError } from '../lib/csv';
import { actorText, atLeast, formatTime } from '../lib/format';
import { asGatewayError, GatewayError } from '../lib/gateway';
import { hrefOf, navigate } from '../lib/router';
import { outcomeOf, SubmissionKey } from '../lib/submission';
import { AddBulkItemsMutation, BulkJobsQuery, CancelBulkMutation, CreateBulkMutation } from '../operations';
import { useSession } from '../session';
import { CurrencySelect, useCurrencies } from './adjust-form';

/** The gateway takes at most 500 items a call. */
const CHUNK = 500;

export function progressText(job: Pick<BulkJobFragment, 'applied' | 'total' | 'rejected' | 'unknown' | 'queued' | 'cancelled'>): string {
  const parts = [`applied ${job.applied} of ${job.total}`, `failed ${job.rejected + job.unknown}`, `pending ${job.queued}`];
  if (job.cancelled > 0) parts.push(`cancelled ${job.cancelled}`);
  return parts.join(', ');
}

export function BulkJobsView() {
  const { gateway, me } = useSession();
  const [jobs, setJobs] = useState<BulkJobFragment[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    gateway.request(BulkJobsQuery, { first: 50 }).then(
      ({ bulkAdjustments }) => setJobs(bulkAdjustments.nodes),
      (requestError: unknown) => setError(requestError),
    );
  }, [gateway]);

  return (
    <>
      <h1>Bulk jobs</h1>
      {atLeast(me.role, 'ADMIN') ? <CreateJobForm /> : <p class="hint">Creating, starting and cancelling bulk jobs needs the ADMIN role.</p>}
      <section aria-labelledby="jobs-heading" class="card">
        <h2 id="jobs-heading">Jobs</h2>
        <ErrorNote error={error} />
        <div class="table-wrap">
          <table aria-label="Bulk jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Currency</th>
                <th scope="col">Reason</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              <TableNotice rows={jobs} failed={!!error} columns={6} empty="No bulk jobs yet." />
              {jobs?.map((job) => (
                <tr key={job.id}>
                  <td>
                    <Link href={hrefOf({ view: 'bulk', id: job.id })}>{job.id}</Link>
                  </td>
                  <td>
                    <span class={`badge job-${job.status.toLowerCase()}`}>{job.status}</span>
                  </td>
                  <td>{progressText(job)}</td>
                  <td>
                    <code>{job.currency}</code>
                  </td>
                  <td class="reason">{job.reason}</td>
                  <td>
                    {formatTime(job.createdAt)}
                    <div class="muted">{actorText(job.createdBy)}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

function CreateJobForm() {
  const { gateway } = useSession();
  const { currencies, error: currenciesError } = useCurrencies();
  const [currency, setCurrency] = useState('CRD');
  const [reason, setReason] = useState('');
  const [csv, setCsv] = useState('');
  const [lineErrors, setLineErrors] = useState<LineError[]>([]);
  const [failure, setFailure] = useState<GatewayError | undefined>(undefined);
  const [progress, setProgress] = useState<string | undefined>(undefined);
  const [cancelledJob, setCancelledJob] = useState<string | undefined>(undefined);
  const submission = useMemo(() => new SubmissionKey(), []);

  const create = async (event: Event) => {
    event.preventDefault();
    setFailure(undefined);
    setCancelledJob(undefined);
    const parsed = parseBulkItems(csv);
    setLineErrors(parsed.errors);
    if (parsed.errors.length > 0) return; // nothing is created while any line is bad
    const input = { currency, reason: reason.trim() };
    const key = submission.begin({ ...input, csv });
    if (key === undefined) return;
    let jobId: string | undefined;
    let sent = 0;
    try {
      setProgress('Creating the job…');
      const { createBulkAdjustment } = await gateway.request(CreateBulkMutation, { input: { ...input, idempotencyKey: key } });
      if (!createBulkAdjustment) throw new GatewayError('bad_response', 'The gateway answered no job', undefined);
      jobId = createBulkAdjustment.id;
      for (; sent < parsed.items.length; sent += CHUNK) {
        const chunk = parsed.items.slice(sent, sent + CHUNK);
        setProgress(`Adding items: ${sent} of ${parsed.items.length}…`);
        await gateway.request(AddBulkItemsMutation, { id: jobId, items: chunk.map(({ userId, amount }) => ({ userId, amount })) });
      }
      submission.end('definite');
      setProgress(undefined);
      navigate(hrefOf({ view: 'bulk', id: jobId }));
    } catch (caught) {
      const error = asGatewayError(caught);
      setProgress(undefined);
      if (jobId === undefined) {
        submission.end(outcomeOf(error.code));
        setFailure(error);
        return;
      }
      // A refused chunk leaves a half-filled DRAFT: cancel it, so nothing of this paste is ever sent.
      submission.end('definite');
      const chunk = parsed.items.slice(sent, sent + CHUNK);
      const index = /items\[(\d+)\]/.exec(error.message)?.[1];
      const line = index !== undefined ? chunk[Number(index)]?.line : undefined;
      setLineErrors(line !== undefined ? [{ line, message: `${error.code}: ${error.message}` }] : []);
      setFailure(error);
      const cancelled = await gateway.request(CancelBulkMutation, { id: jobId }).then(
        () => true,
        () => false,
      );
      setCancelledJob(
        cancelled ? `Job ${jobId} was cancelled: nothing of this paste will be sent.` : `Job ${jobId} could not be cancelled: cancel it from its page before anything else.`,
      );
    }
  };

  return (
    <section aria-labelledby="create-job-heading" class="card">
      <h2 id="create-job-heading">New bulk job</h2>
      <form onSubmit={(event) => void create(event)} class="stack">
        <ErrorNote error={currenciesError} />
        <div class="field-row">
          <div class="field">
            <label for="bulk-currency">Currency</label>
            <CurrencySelect id="bulk-currency" value={currency} onChange={setCurrency} currencies={currencies} />
          </div>
          <div class="field grow">
            <label for="bulk-reason">Reason</label>
            <input
              id="bulk-reason"
              type="text"
              required
              minLength={3}
              maxLength={500}
              placeholder="INC-2031: outage credit"
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
        </div>
        <label for="bulk-items">Items (CSV)</label>
        <textarea
          id="bulk-items"
          rows={8}
          spellcheck={false}
          required
          placeholder={'userId,amount\nuser_2abcXYZ,25\nuser_demo_rich,25'}
          value={csv}
          onInput={(e) => setCsv(e.currentTarget.value)}
          aria-describedby="bulk-items-hint"
        />
        <span id="bulk-items-hint" class="hint">
          One <code>userId,amount</code> line per customer (a negative amount deducts); a header line is allowed. Nothing is sent until you start the job.
        </span>
        <div>
          <button type="submit" disabled={progress !== undefined}>
            Create job
          </button>
        </div>
        <div role="status">{progress}</div>
        {(lineErrors.length > 0 || failure) && (
          <div role="alert" class="error">
            {lineErrors.length > 0 && (
              <>
                <p>{lineErrors.length === 1 ? '1 line is' : `${lineErrors.length} lines are`} not valid; nothing was created.</p>
                <ul>
                  {lineErrors.map((lineError) => (
                    <li key={`${lineError.line}:${lineError.message}`}>
                      Line {lineError.line}: {lineError.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
            {failure && (
              <p>
                <ErrorText error={failure} />
              </p>
            )}
            {cancelledJob && <p>{cancelledJob}</p>}
          </div>
        )}
      </form>
    </section>
  );
}
