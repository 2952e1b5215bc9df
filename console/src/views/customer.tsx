import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNote, TableNotice } from '../components';
import type { BalancesQuery } from '../gql/graphql';
import { atLeast, formatAmount } from '../lib/format';
import { hrefOf, navigate } from '../lib/router';
import { BalancesQuery as BalancesDocument, UsageChangedSubscription } from '../operations';
import { useSession } from '../session';
import { AdjustForm } from './adjust-form';
import { History } from './history';

type Balance = BalancesQuery['balances'][number];

export function CustomerView({ userId, focusUserId }: { userId?: string; focusUserId: number }) {
  const { me } = useSession();
  const [draft, setDraft] = useState(userId ?? '');
  const input = useRef<HTMLInputElement>(null);
  // Bumped on every change seen live, so the history shows the new rows too.
  const [changes, setChanges] = useState(0);
  const balances = useBalances(userId, () => setChanges((n) => n + 1));

  useEffect(() => setDraft(userId ?? ''), [userId]);
  useEffect(() => {
    if (focusUserId > 0 || userId === undefined) input.current?.focus();
  }, [focusUserId, userId]);

  const lookUp = (event: Event) => {
    event.preventDefault();
    const id = draft.trim();
    if (id !== '') navigate(hrefOf({ view: 'customer', userId: id }));
  };

  return (
    <>
      <h1>Customer</h1>
      <form role="search" class="inline" onSubmit={lookUp}>
        <label for="user-id">User ID</label>
        <input
          id="user-id"
          ref={input}
          type="text"
          spellcheck={false}
          autocomplete="off"
          placeholder="user_2abcXYZ"
          required
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          aria-describedby="user-id-hint"
        />
        <button type="submit">Look up</button>
        <span id="user-id-hint" class="hint">
          Press <kbd>/</kbd> to come back here.
        </span>
      </form>
      {userId !== undefined && (
        <>
          <h2 class="customer-id">
            <span class="muted">Customer</span> {userId}
          </h2>
          <p class="hint">
            Link for a ticket: <a href={hrefOf({ view: 'customer', userId })}>{`${window.location.origin}${hrefOf({ view: 'customer', userId })}`}</a>
          </p>
          <div class="columns">
            <section aria-labelledby="balances-heading" class="card">
              <h3 id="balances-heading">
                Balances <LiveBadge live={balances.live} />
              </h3>
              <ErrorNote error={balances.error} />
              <table aria-label="Balances">
                <thead>
                  <tr>
                    <th scope="col">Currency</th>
                    <th scope="col">Name</th>
                    <th scope="col" class="num">
                      Balance
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <TableNotice rows={balances.rows} failed={!!balances.error} columns={3} empty="No currencies." />
                  {balances.rows?.map((row) => (
                    <tr key={row.currency}>
                      <td>
                        <code>{row.currency}</code>
                      </td>
                      <td>{row.name ?? ''}</td>
                      <td class="num">{formatAmount(row.balance)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            {atLeast(me.role, 'AGENT') && (
              <section aria-labelledby="adjust-heading" class="card">
                <h3 id="adjust-heading">Adjust</h3>
                <AdjustForm userId={userId} onApplied={(currency, balance) => balances.set(currency, balance)} />
              </section>
            )}
          </div>
          <History userId={userId} changes={changes} />
        </>
      )}
    </>
  );
}

function LiveBadge({ live }: { live: boolean }) {
  return (
    <span class={live ? 'badge badge-live' : 'badge badge-muted'} title={live ? 'Updates by itself when the balance changes' : 'Not connected for live updates'}>
      {live ? 'live' : 'not live'}
    </span>
  );
}

interface BalancesState {
  rows: Balance[] | undefined;
  error: unknown;
  live: boolean;
  set(currency: string, balance: number): void;
}

/** The customer's balances, kept current by usageChanged (whoever made the change). */
function useBalances(userId: string | undefined, onChange: () => void): BalancesState {
  const { gateway } = useSession();
  const [rows, setRows] = useState<Balance[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState(false);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  // The balances read again, after what was just shown: see the effect below.
  const reread = useRef<() => void>(() => undefined);
  const show = (currency: string, balance: number) => {
    setRows((current) => {
      if (!current) return current;
      if (!current.some((row) => row.currency === currency)) return [...current, { currency, balance, name: null }];
      return current.map((row) => (row.currency === currency ? { ...row, balance } : row));
    });
  };
  const set = (currency: string, balance: number) => {
    show(currency, balance);
    reread.current();
  };

  useEffect(() => {
    if (userId === undefined) return;
    let active = true;
    setRows(undefined);
    setError(undefined);
    setLive(false);
    // Subscribe first, then read: a change between the two is not lost (the event carries the balance).
    const latest = new Map<string, string>();
    const unsubscribe = gateway.subscribe(
      UsageChangedSubscription,
      { userId },
      ({ usageChanged: event }) => {
        if (!active || event.userId !== userId) return;
        const seen = latest.get(event.currency);
        if (seen === undefined || seen <= event.occurredAt) {
          latest.set(event.currency, event.occurredAt);
          show(event.currency, event.balance);
        }
        reread.current();
        onChangeRef.current();
      },
      (subscriptionError) => active && setError(subscriptionError),
    );
    const stopWatching = gateway.onLive((up) => active && setLive(up));
    // An event or an answer carries the balance as of its own transaction, and two can cross: a slow
    // answer settling after a later change would leave the older balance shown. So each is shown at
    // once and then read again, one read at a time, the last one started after the last change seen.
    let reading = false;
    let again = false;
    const read = () => {
      if (!active) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      gateway
        .request(BalancesDocument, { userId })
        .then(
          (data) => active && setRows(data.balances),
          (requestError: unknown) => active && setError(requestError),
        )
        .finally(() => {
          reading = false;
          if (again) {
            again = false;
            read();
          }
        });
    };
    reread.current = read;
    read();
    return () => {
      active = false;
      stopWatching();
      unsubscribe();
    };
  }, [gateway, userId]);

  return { rows, error, live, set };
}
