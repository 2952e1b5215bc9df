import { useEffect, useState } from 'preact/hooks';
import { Dialog, ErrorNote, ErrorText, Link, TableNotice } from '../components';
import type { PendingApprovalsQuery } from '../gql/graphql';
import { actorText, atLeast, formatAmount, formatTime, timeLeft } from '../lib/format';
import { asGatewayError, GatewayError } from '../lib/gateway';
import { hrefOf } from '../lib/router';
import { ApproveMutation, PendingApprovalsQuery as PendingApprovalsDocument, RejectMutation } from '../operations';
import { useSession, type Me } from '../session';

type Request = PendingApprovalsQuery['approvalRequests']['nodes'][number];

/** The gateway refuses a requester deciding their own request; the console does not offer it. */
function isRequester(me: Me, request: Request): boolean {
  if (me.operatorId !== null || request.requestedBy.operatorId !== null) return me.operatorId === request.requestedBy.operatorId;
  return me.name === request.requestedBy.name;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function ApprovalsView() {
  const { gateway, me } = useSession();
  const now = useNow(30_000);
  const [requests, setRequests] = useState<Request[] | undefined>(undefined);
  const [page, setPage] = useState<{ endCursor: string | null; hasNextPage: boolean }>({ endCursor: null, hasNextPage: false });
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [rejecting, setRejecting] = useState<Request | undefined>(undefined);
  const [outcome, setOutcome] = useState<{ text: string; error?: GatewayError } | undefined>(undefined);
  const mayDecide = atLeast(me.role, 'SUPERVISOR');

  const load = async (after: string | null) => {
    try {
      const { approvalRequests } = await gateway.request(PendingApprovalsDocument, { first: 50, after });
      setRequests((current) => (after ? [...(current ?? []), ...approvalRequests.nodes] : approvalRequests.nodes));
      setPage(approvalRequests.pageInfo);
      setError(undefined);
    } catch (requestError) {
      setError(requestError);
    }
  };

  useEffect(() => {
    void load(null);
  }, [gateway]);

  const drop = (id: string) => setRequests((current) => current?.filter((request) => request.id !== id));

  const approve = async (request: Request) => {
    setBusy(request.id);
    try {
      const { approveAdjustment } = await gateway.request(ApproveMutation, { id: request.id });
      setOutcome({
        text: `Approved ${request.id}: applied ${formatAmount(request.amount, true)} ${request.currency} to ${request.userId}, new balance ${formatAmount(approveAdjustment?.balance ?? 0)}.`,
      });
      drop(request.id);
    } catch (caught) {
      setOutcome({ text: `Approving ${request.id} failed.`, error: asGatewayError(caught) });
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <h1>Approvals</h1>
      <p class="hint">
        {mayDecide
          ? 'Adjustments over their requester’s limits wait here for a second person: approve to apply it once, or reject with a reason.'
          : 'Adjustments over their requester’s limits wait here (yours too) until a SUPERVISOR or ADMIN other than the requester decides.'}
      </p>
      <div role="status">
        {outcome && (
          <div class={outcome.error ? 'error' : 'ok'}>
            <p>{outcome.text}</p>
            {outcome.error && (
              <p>
                <ErrorText error={outcome.error} />
              </p>
            )}
          </div>
        )}
      </div>
      <ErrorNote error={error} />
      <div class="card table-wrap">
        <table aria-label="Approval requests">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Currency</th>
              <th scope="col">Reason</th>
              <th scope="col">Requested by</th>
              <th scope="col">Time left</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <TableNotice rows={requests} failed={!!error} columns={7} empty="No approval requests are waiting." />
            {requests?.map((request) => {
              const canDecide = mayDecide && !isRequester(me, request);
              return (
                <tr key={request.id}>
                  <td>
                    <Link href={hrefOf({ view: 'customer', userId: request.userId })}>{request.userId}</Link>
                  </td>
                  <td class={`num ${request.amount < 0 ? 'negative' : 'positive'}`}>{formatAmount(request.amount, true)}</td>
                  <td>
                    <code>{request.currency}</code>
                  </td>
                  <td class="reason">{request.reason}</td>
                  <td>
                    {actorText(request.requestedBy)}
                    <div class="muted">{formatTime(request.createdAt)}</div>
                  </td>
                  <td>
                    <time dateTime={request.expiresAt} title={formatTime(request.expiresAt)}>
                      {timeLeft(request.expiresAt, now)}
                    </time>
                  </td>
                  <td class="actions">
                    {canDecide && (
                      <>
                        <button type="button" class="small" disabled={busy === request.id} onClick={() => void approve(request)}>
                          Approve
                        </button>
                        <button type="button" class="small danger" disabled={busy === request.id} onClick={() => setRejecting(request)}>
                          Reject
                        </button>
                      </>
                    )}
                    {mayDecide && !canDecide && <span class="muted">your request</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {page.hasNextPage && (
        <button type="button" class="secondary" onClick={() => void load(page.endCursor)}>
          Load more
        </button>
      )}
      {rejecting && (
        <RejectDialog
          request={rejecting}
          onClose={() => setRejecting(undefined)}
          onRejected={(text) => {
            drop(rejecting.id);
            setRejecting(undefined);
            setOutcome({ text });
          }}
        />
      )}
    </>
  );
}

function RejectDialog({ request, onClose, onRejected }: { request: Request; onClose: () => void; onRejected: (text: string) => void }) {
  const { gateway } = useSession();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<GatewayError | undefined>(undefined);

  const confirm = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await gateway.request(RejectMutation, { id: request.id, reason: reason.trim() });
      onRejected(`Rejected ${request.id}: nothing was applied.`);
    } catch (caught) {
      setError(asGatewayError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Reject approval request" onClose={onClose}>
      <p>
        {formatAmount(request.amount, true)} {request.currency} to {request.userId}, requested by {actorText(request.requestedBy)}: <q>{request.reason}</q>
      </p>
      <form onSubmit={(event) => void confirm(event)} class="stack">
        <label for="reject-reason">Reason</label>
        <input id="reject-reason" type="text" required minLength={3} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        <div role="status">
          {error && (
            <p class="error">
              <ErrorText error={error} />
            </p>
          )}
        </div>
        <div class="buttons">
          <button type="submit" class="danger" disabled={busy}>
            Confirm rejection
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}
