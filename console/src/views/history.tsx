import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Dialog, ErrorNote, ErrorText, TableNotice } from '../components';
import type { AdjustmentStatus, HistoryRecordFragment } from '../gql/graphql';
import { csvRecordCount } from '../lib/csv';
import { actorText, atLeast, formatAmount, formatTime } from '../lib/format';
import { asGatewayError, GatewayError } from '../lib/gateway';
import { outcomeOf, SubmissionKey } from '../lib/submission';
import { AdjustCreditsMutation, AdjustmentQuery, HistoryCsvQuery, HistoryQuery, ReverseAdjustmentMutation } from '../operations';
import { useSession } from '../session';

type Row = HistoryRecordFragment;

const STATUSES: AdjustmentStatus[] = ['APPLIED', 'PENDING', 'UNKNOWN', 'REJECTED', 'QUEUED', 'CANCELLED'];
const PAGE = 20;

function filterOf(userId: string, status: AdjustmentStatus | '') {
  return status === '' ? { userId } : { userId, status: [status] };
}

/** Newest first, as the journal pages them: createdAt, then id. */
function byNewest(a: Row, b: Row): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function merge(fresh: Row[], loaded: Row[]): Row[] {
  const byId = new Map(loaded.map((row) => [row.id, row]));
  for (const row of fresh) byId.set(row.id, row);
  return [...byId.values()].sort(byNewest);
}

export function History({ userId, changes }: { userId: string; changes: number }) {
  const { gateway, me } = useSession();
  const canAct = atLeast(me.role, 'AGENT');
  const [status, setStatus] = useState<AdjustmentStatus | ''>('');
  const [rows, setRows] = useState<Row[] | undefined>(undefined);
  const [cursor, setCursor] = useState<{ endCursor: string | null; hasNextPage: boolean }>({ endCursor: null, hasNextPage: false });
  const [error, setError] = useState<unknown>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);
  const [reversing, setReversing] = useState<Row | undefined>(undefined);
  const [notice, setNotice] = useState<{ text: string; error?: GatewayError } | undefined>(undefined);
  const [exporting, setExporting] = useState<string | undefined>(undefined);
  const generation = useRef(0);
  const shown = useRef({ userId, status });

  // The first page, on a new customer or filter; after a live change, merged into what is loaded.
  useEffect(() => {
    const mine = ++generation.current;
    const refresh = shown.current.userId === userId && shown.current.status === status && rows !== undefined;
    shown.current = { userId, status };
    if (!refresh) {
      setRows(undefined);
      setError(undefined);
    }
    gateway.request(HistoryQuery, { filter: filterOf(userId, status), first: PAGE }).then(
      ({ adjustments }) => {
        if (mine !== generation.current) return;
        setRows((current) => (refresh && current ? merge(adjustments.nodes, current) : adjustments.nodes));
        if (!refresh) setCursor(adjustments.pageInfo);
        setError(undefined);
      },
      (requestError: unknown) => mine === generation.current && setError(requestError),
    );
  }, [gateway, userId, status, changes]);

  useEffect(() => {
    setNotice(undefined);
    setStatus('');
  }, [userId]);

  const loadMore = async () => {
    if (!cursor.endCursor) return;
    const mine = generation.current;
    setLoadingMore(true);
    try {
      const { adjustments } = await gateway.request(HistoryQuery, { filter: filterOf(userId, status), first: PAGE, after: cursor.endCursor });
      if (mine !== generation.current) return;
      setRows((current) => merge(adjustments.nodes, current ?? []));
      setCursor(adjustments.pageInfo);
    } catch (requestError) {
      setError(requestError);
    } finally {
      setLoadingMore(false);
    }
  };

  const replaceRow = async (id: string) => {
    const { adjustment } = await gateway.request(AdjustmentQuery, { id });
    if (adjustment) setRows((current) => merge([adjustment], current ?? []));
  };

  const exportCsv = async () => {
    setExporting('Exporting…');
    try {
      const { adjustmentsCsv } = await gateway.request(HistoryCsvQuery, { userId, status: status || null });
      download(`history-${userId}${status ? `-${status}` : ''}.csv`, adjustmentsCsv);
      setExporting(`Exported ${csvRecordCount(adjustmentsCsv)} rows.`);
    } catch (exportError) {
      setExporting(undefined);
      setError(exportError);
    }
  };

  return (
    <section aria-labelledby="history-heading" class="card">
      <div class="section-head">
        <h3 id="history-heading">History</h3>
        <div class="inline">
          <label for="history-status">Status</label>
          <select id="history-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as AdjustmentStatus | '')}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" class="secondary" onClick={() => void exportCsv()} disabled={exporting?.startsWith('Exporting')}>
            Export CSV
          </button>
        </div>
      </div>
      <p role="status" class="hint">
        {exporting ?? ''}
      </p>
      <ErrorNote error={error} />
      {notice && (
        <div role="status" class={notice.error ? 'error' : 'ok'}>
          <p>{notice.text}</p>
          {notice.error && (
            <p>
              <ErrorText error={notice.error} />
            </p>
          )}
        </div>
      )}
      <div class="table-wrap">
        <table aria-label="History" class="history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Currency</th>
              <th scope="col">Reason</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
              <th scope="col">Approved by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <TableNotice rows={rows} failed={!!error} columns={8} empty={<>No adjustments{status ? ` with status ${status}` : ''}.</>} />
            {rows?.map((row) => (
              <HistoryRow key={row.id} row={row} canAct={canAct} onReverse={() => setReversing(row)} onRetried={setNotice} replaceRow={replaceRow} />
            ))}
          </tbody>
        </table>
      </div>
      {cursor.hasNextPage && (
        <button type="button" class="secondary" onClick={() => void loadMore()} disabled={loadingMore}>
          Load more
        </button>
      )}
      {reversing && (
        <ReverseDialog
          row={reversing}
          onClose={() => setReversing(undefined)}
          onReversed={(text) => {
            setReversing(undefined);
            setNotice({ text });
            void replaceRow(reversing.id);
          }}
        />
      )}
    </section>
  );
}

function isReversed(row: Row): boolean {
  return row.reversedBy !== null && ['APPLIED', 'PENDING', 'UNKNOWN'].includes(row.reversedBy.status);
}

function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 14)}…` : id;
}

function StatusCell({ row }: { row: Row }) {
  const settled = row.status === 'APPLIED' || row.status === 'REJECTED' || row.status === 'CANCELLED';
  return (
    <>
      <span class={`badge status-${row.status.toLowerCase()}`}>{row.status}</span>{' '}
      <span class="muted">{settled ? `settled ${formatTime(row.settledAt)}` : row.status === 'UNKNOWN' ? 'outcome unknown: retry' : 'pending, not settled'}</span>
      {row.errorCode && (
        <div>
          <code>{row.errorCode}</code>
        </div>
      )}
      {row.status === 'APPLIED' && row.balance !== null && <div class="muted">balance after: {formatAmount(row.balance)}</div>}
      {row.reverses && (
        <div>
          reversal of{' '}
          <a href={`#adj-${row.reverses.id}`} title={row.reverses.id}>
            {shortId(row.reverses.id)}
          </a>
        </div>
      )}
      {row.reversedBy && (
        <div>
          {row.reversedBy.status === 'APPLIED' ? 'reversed by ' : `reversal ${row.reversedBy.status.toLowerCase()}: `}
          <a href={`#adj-${row.reversedBy.id}`} title={row.reversedBy.id}>
            {shortId(row.reversedBy.id)}
          </a>
        </div>
      )}
    </>
  );
}

function HistoryRow({
  row,
  canAct,
  onReverse,
  onRetried,
  replaceRow,
}: {
  row: Row;
  canAct: boolean;
  onReverse: () => void;
  onRetried: (notice: { text: string; error?: GatewayError }) => void;
  replaceRow: (id: string) => Promise<void>;
}) {
  const { gateway } = useSession();
  const [retrying, setRetrying] = useState(false);
  const canReverse = canAct && row.status === 'APPLIED' && !row.reverses && !isReversed(row);
  // A bulk item belongs to its job (retryBulkAdjustment); the gateway refuses its key elsewhere.
  const canRetry = canAct && row.status === 'UNKNOWN' && row.bulkAdjustmentId === null;

  // Re-sends the adjustment exactly as first sent, under its own key: RevenueCat applies it or replays it.
  const retry = async () => {
    setRetrying(true);
    try {
      const result = row.reverses
        ? (await gateway.request(ReverseAdjustmentMutation, { input: { adjustmentId: row.reverses.id, reason: row.reason, idempotencyKey: row.idempotencyKey } }))
            .reverseAdjustment
        : (
            await gateway.request(AdjustCreditsMutation, {
              input: { userId: row.userId, currency: row.currency, amount: row.amount, reason: row.reason, idempotencyKey: row.idempotencyKey },
            })
          ).adjustCredits;
      onRetried({ text: `Retried ${row.id}: applied, balance ${result ? formatAmount(result.balance) : '?'} ${row.currency}.` });
    } catch (error) {
      const gatewayError = asGatewayError(error);
      onRetried({ text: `Retried ${row.id}: not applied.`, error: gatewayError });
    } finally {
      setRetrying(false);
      await replaceRow(row.id).catch(() => undefined);
    }
  };

  const pending = row.status === 'PENDING' || row.status === 'QUEUED' || row.status === 'UNKNOWN';
  return (
    <tr id={`adj-${row.id}`} class={pending ? 'row-pending' : undefined}>
      <td>
        <time dateTime={row.createdAt}>{formatTime(row.createdAt)}</time>
      </td>
      <td class={`num ${row.amount < 0 ? 'negative' : 'positive'}`}>{formatAmount(row.amount, true)}</td>
      <td>
        <code>{row.currency}</code>
      </td>
      <td class="reason">{row.reason}</td>
      <td>
        <StatusCell row={row} />
      </td>
      <td>{actorText(row.actor)}</td>
      <td>{actorText(row.approvedBy)}</td>
      <td class="actions">
        {canReverse && (
          <button type="button" class="secondary small" onClick={onReverse}>
            Reverse
          </button>
        )}
        {canRetry && (
          <button type="button" class="small" onClick={() => void retry()} disabled={retrying}>
            Retry
          </button>
        )}
      </td>
    </tr>
  );
}

function ReverseDialog({ row, onClose, onReversed }: { row: Row; onClose: () => void; onReversed: (text: string) => void }) {
  const { gateway } = useSession();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ error: GatewayError; key: string; open: boolean } | undefined>(undefined);
  const submission = useMemo(() => new SubmissionKey(), [row.id]);

  const confirm = async (event: Event) => {
    event.preventDefault();
    const input = { adjustmentId: row.id, reason: reason.trim() };
    const key = submission.begin(input);
    if (key === undefined) return;
    setBusy(true);
    try {
      const { reverseAdjustment } = await gateway.request(ReverseAdjustmentMutation, { input: { ...input, idempotencyKey: key } });
      submission.end('definite');
      onReversed(
        `Reversed ${row.id}: ${formatAmount(reverseAdjustment?.amount ?? -row.amount, true)} ${row.currency}, new balance ${formatAmount(reverseAdjustment?.balance ?? 0)}.`,
      );
    } catch (caught) {
      const error = asGatewayError(caught);
      const open = outcomeOf(error.code) === 'open';
      submission.end(open ? 'open' : 'definite');
      setFailure({ error, key, open });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Reverse adjustment" onClose={onClose}>
      <p>
        Applies the opposite of {formatAmount(row.amount, true)} {row.currency} to {row.userId}, once. The original reason: <q>{row.reason}</q>
      </p>
      <form onSubmit={(event) => void confirm(event)} class="stack">
        <label for="reverse-reason">Reason</label>
        <input id="reverse-reason" type="text" required minLength={3} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        <div role="status">
          {busy && <p>Reversing…</p>}
          {!busy && failure && (
            <div class="error">
              <p>
                <ErrorText error={failure.error} />
              </p>
              {failure.open && (
                <p>
                  The outcome is not known yet: confirm again to re-send the same request (key <code>{failure.key}</code>).
                </p>
              )}
            </div>
          )}
        </div>
        <div class="buttons">
          <button type="submit" disabled={busy}>
            Confirm reversal
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
