import { useEffect, useState } from 'preact/hooks';
import { ErrorNote, ErrorText, TableNotice } from '../components';
import type { OperatorRole, OperatorsQuery } from '../gql/graphql';
import { actorText, atLeast, formatAmount, formatTime } from '../lib/format';
import { asGatewayError, GatewayError } from '../lib/gateway';
import { CreateOperatorMutation, OperatorsQuery as OperatorsDocument, RevokeOperatorMutation } from '../operations';
import { useSession } from '../session';

type Operator = OperatorsQuery['operators'][number];

/** What the signed-in role may hand out or manage: a SUPERVISOR only VIEWERs and AGENTs. */
function manageable(role: OperatorRole): OperatorRole[] {
  return role === 'ADMIN' ? ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'] : ['VIEWER', 'AGENT'];
}

function limitText(limit: number | null): string {
  return limit === null ? 'none' : formatAmount(limit);
}

export function OperatorsView() {
  const { gateway, me } = useSession();
  const [operators, setOperators] = useState<Operator[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<{ text: string; error?: GatewayError } | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    gateway.request(OperatorsDocument, {}).then(
      ({ operators: list }) => {
        setOperators(list);
        setError(undefined);
      },
      (requestError: unknown) => setError(requestError),
    );
  }, [gateway, reload]);

  if (!atLeast(me.role, 'SUPERVISOR')) {
    return (
      <>
        <h1>Operators</h1>
        <ErrorNote error={new GatewayError('forbidden', 'Managing operators needs the SUPERVISOR role or above.', undefined)} />
      </>
    );
  }

  const revoke = async (operator: Operator) => {
    setBusy(operator.id);
    try {
      await gateway.request(RevokeOperatorMutation, { id: operator.id });
      setNotice({ text: `Revoked ${operator.name}: the token is refused from now on.` });
      setReload((n) => n + 1);
    } catch (caught) {
      setNotice({ text: `Revoking ${operator.name} failed.`, error: asGatewayError(caught) });
    } finally {
      setBusy(undefined);
    }
  };

  const roles = manageable(me.role);
  return (
    <>
      <h1>Operators</h1>
      <CreateOperatorForm roles={roles} onCreated={() => setReload((n) => n + 1)} />
      <section class="card" aria-labelledby="operators-heading">
        <h2 id="operators-heading">Operators</h2>
        <div role="status">
          {notice && (
            <div class={notice.error ? 'error' : 'ok'}>
              <p>{notice.text}</p>
              {notice.error && (
                <p>
                  <ErrorText error={notice.error} />
                </p>
              )}
            </div>
          )}
        </div>
        <ErrorNote error={error} />
        <div class="table-wrap">
          <table aria-label="Operators">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col" class="num">
                  Max adjustment
                </th>
                <th scope="col" class="num">
                  Daily limit
                </th>
                <th scope="col">Token</th>
                <th scope="col">Last used</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              <TableNotice rows={operators} failed={!!error} columns={8} empty="No operators yet: create the first one above." />
              {operators?.map((operator) => (
                <tr key={operator.id}>
                  <td>{operator.name}</td>
                  <td>
                    <span class={`role role-${operator.role.toLowerCase()}`}>{operator.role}</span>
                  </td>
                  <td class="num">{limitText(operator.maxAdjustment)}</td>
                  <td class="num">{limitText(operator.dailyLimit)}</td>
                  <td>
                    <code>{operator.tokenPrefix}…</code>
                  </td>
                  <td>{operator.lastUsedAt ? formatTime(operator.lastUsedAt) : 'never'}</td>
                  <td>
                    {formatTime(operator.createdAt)}
                    <div class="muted">by {actorText(operator.createdBy)}</div>
                  </td>
                  <td class="actions">
                    {roles.includes(operator.role) && operator.id !== me.operatorId && (
                      <button type="button" class="small danger" disabled={busy === operator.id} onClick={() => void revoke(operator)}>
                        Revoke
                      </button>
                    )}
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

function optionalInt(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

function CreateOperatorForm({ roles, onCreated }: { roles: OperatorRole[]; onCreated: () => void }) {
  const { gateway } = useSession();
  const [name, setName] = useState('');
  const [role, setRole] = useState<OperatorRole>('AGENT');
  const [maxAdjustment, setMaxAdjustment] = useState('');
  const [dailyLimit, setDailyLimit] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; role: OperatorRole; token: string } | undefined>(undefined);
  const [error, setError] = useState<GatewayError | undefined>(undefined);

  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(undefined);
    try {
      const { createOperator } = await gateway.request(CreateOperatorMutation, {
        input: { name: name.trim(), role, maxAdjustment: optionalInt(maxAdjustment), dailyLimit: optionalInt(dailyLimit) },
      });
      if (!createOperator) throw new GatewayError('bad_response', 'The gateway answered no operator', undefined);
      setCreated({ name: createOperator.operator.name, role: createOperator.operator.role, token: createOperator.token });
      setName('');
      setMaxAdjustment('');
      setDailyLimit('');
      onCreated();
    } catch (caught) {
      setError(asGatewayError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="create-operator-heading">
      <h2 id="create-operator-heading">New operator</h2>
      <form onSubmit={(event) => void create(event)} class="stack">
        <div class="field-row">
          <div class="field grow">
            <label for="operator-name">Name</label>
            <input id="operator-name" type="text" required maxLength={100} placeholder="Ana (support lead)" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="operator-role">Role</label>
            <select id="operator-role" value={role} onChange={(e) => setRole(e.currentTarget.value as OperatorRole)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="operator-max">Max adjustment</label>
            <input id="operator-max" type="number" min={1} step={1} placeholder="none" value={maxAdjustment} onInput={(e) => setMaxAdjustment(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="operator-daily">Daily limit</label>
            <input id="operator-daily" type="number" min={1} step={1} placeholder="none" value={dailyLimit} onInput={(e) => setDailyLimit(e.currentTarget.value)} />
          </div>
        </div>
        <div>
          <button type="submit" disabled={busy}>
            Create operator
          </button>
        </div>
        <div role="status">
          {created && (
            <div class="new-token ok">
              <p>
                Created {created.name} ({created.role}). Hand this token over now: it is shown this once, and only its hash is kept.
              </p>
              <label for="new-token">New token</label>
              <output id="new-token" class="token">
                {created.token}
              </output>
            </div>
          )}
          {error && (
            <p class="error">
              <ErrorText error={error} />
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
