import { useEffect, useMemo, useState } from 'preact/hooks';
import { ErrorNote, ErrorText } from '../components';
import type { CurrenciesQuery } from '../gql/graphql';
import { formatAmount } from '../lib/format';
import { asGatewayError, GatewayError } from '../lib/gateway';
import { outcomeOf, SubmissionKey } from '../lib/submission';
import { AdjustCreditsMutation, CurrenciesQuery as CurrenciesDocument } from '../operations';
import { useSession } from '../session';

type Outcome =
  | { kind: 'applied'; amount: number; currency: string; balance: number; replayed: boolean }
  | { kind: 'approval'; error: GatewayError }
  | { kind: 'error'; error: GatewayError; key: string; open: boolean };

/** The project's currencies, for the Currency selects (read once per page). */
export function useCurrencies(): { currencies: CurrenciesQuery['currencies'] | undefined; error: unknown } {
  const { gateway } = useSession();
  const [currencies, setCurrencies] = useState<CurrenciesQuery['currencies'] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    let active = true;
    gateway.request(CurrenciesDocument, {}).then(
      (data) => active && setCurrencies(data.currencies),
      (requestError: unknown) => active && setError(requestError),
    );
    return () => {
      active = false;
    };
  }, [gateway]);
  return { currencies, error };
}

export function CurrencySelect({
  id,
  value,
  onChange,
  currencies,
}: {
  id: string;
  value: string;
  onChange: (code: string) => void;
  currencies: CurrenciesQuery['currencies'] | undefined;
}) {
  const options = currencies ?? [{ code: value, name: value }];
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      {options.map((currency) => (
        <option key={currency.code} value={currency.code}>
          {currency.code === currency.name ? currency.code : `${currency.code} (${currency.name})`}
        </option>
      ))}
    </select>
  );
}

export function AdjustForm({ userId, onApplied }: { userId: string; onApplied: (currency: string, balance: number) => void }) {
  const { gateway } = useSession();
  const { currencies, error: currenciesError } = useCurrencies();
  const [currency, setCurrency] = useState('CRD');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  // One key per submission of these values, for this customer: see SubmissionKey.
  const submission = useMemo(() => new SubmissionKey(), [userId]);

  useEffect(() => {
    if (currencies && !currencies.some((c) => c.code === currency) && currencies[0]) setCurrency(currencies[0].code);
  }, [currencies]);
  useEffect(() => setOutcome(undefined), [userId]);

  const apply = async (event: Event) => {
    event.preventDefault();
    const value = Number(amount);
    const input = { userId, currency, amount: value, reason: reason.trim() };
    const key = submission.begin(input);
    if (key === undefined) return; // the first click's answer is still outstanding
    setBusy(true);
    try {
      const { adjustCredits } = await gateway.request(AdjustCreditsMutation, { input: { ...input, idempotencyKey: key } });
      submission.end('definite');
      if (!adjustCredits) throw new GatewayError('bad_response', 'The gateway answered no adjustment', undefined);
      setOutcome({ kind: 'applied', amount: adjustCredits.amount, currency: adjustCredits.currency, balance: adjustCredits.balance, replayed: adjustCredits.replayed });
      onApplied(adjustCredits.currency, adjustCredits.balance);
      setAmount('');
      setReason('');
    } catch (caught) {
      const error = asGatewayError(caught);
      const open = outcomeOf(error.code) === 'open';
      submission.end(open ? 'open' : 'definite');
      setOutcome(error.code === 'approval_required' ? { kind: 'approval', error } : { kind: 'error', error, key, open });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void apply(event)} class="stack">
      <ErrorNote error={currenciesError} />
      <div class="field-row">
        <div class="field">
          <label for="adjust-currency">Currency</label>
          <CurrencySelect id="adjust-currency" value={currency} onChange={setCurrency} currencies={currencies} />
        </div>
        <div class="field">
          <label for="adjust-amount">Amount</label>
          <input
            id="adjust-amount"
            type="number"
            step={1}
            required
            inputMode="numeric"
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
            aria-describedby="adjust-amount-hint"
          />
        </div>
      </div>
      <span id="adjust-amount-hint" class="hint">
        Positive grants, negative deducts.
      </span>
      <label for="adjust-reason">Reason</label>
      <input
        id="adjust-reason"
        type="text"
        required
        minLength={3}
        maxLength={500}
        placeholder="ZD-4821 goodwill for a failed export"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <div>
        <button type="submit" disabled={busy}>
          Apply
        </button>
      </div>
      <div role="status" class="outcome">
        {busy && <p>Applying…</p>}
        {!busy && outcome && <OutcomeText outcome={outcome} userId={userId} />}
      </div>
    </form>
  );
}

function OutcomeText({ outcome, userId }: { outcome: Outcome; userId: string }) {
  switch (outcome.kind) {
    case 'applied':
      return (
        <p class="ok">
          {outcome.replayed ? 'Already applied (this same request): ' : 'Applied '}
          {formatAmount(outcome.amount, true)} {outcome.currency} to {userId}. New balance: <strong>{formatAmount(outcome.balance)}</strong> {outcome.currency}.
        </p>
      );
    case 'approval': {
      const requestId = outcome.error.extensions.approvalRequestId;
      return (
        <div class="warn">
          <p>
            Approval required: approval request <code>{typeof requestId === 'string' ? requestId : '?'}</code> was made; a SUPERVISOR must approve it. Nothing was applied yet
            (applying the same values again finds this same request).
          </p>
          <p>
            <ErrorText error={outcome.error} />
          </p>
        </div>
      );
    }
    case 'error':
      return (
        <div class="error">
          <p>
            <ErrorText error={outcome.error} />
          </p>
          {outcome.open && (
            <p>
              The outcome is not known yet. Apply again with the same values: it re-sends the same request (idempotency key <code>{outcome.key}</code>), which applies at most
              once.
            </p>
          )}
        </div>
      );
  }
}
