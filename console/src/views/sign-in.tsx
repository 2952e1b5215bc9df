import { useState } from 'preact/hooks';
import { ErrorNote } from '../components';

export function SignInView({ error, onSignIn }: { error?: unknown; onSignIn: (token: string) => Promise<void> }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy || token.trim() === '') return;
    setBusy(true);
    await onSignIn(token.trim());
    setBusy(false);
  };

  return (
    <main class="page narrow sign-in" id="main">
      <h1>Credits console</h1>
      <p>Sign in with your operator token (or the gateway's root secret). It is kept in this tab only, until you sign out or close it.</p>
      <form onSubmit={(event) => void submit(event)} class="stack">
        <label for="token">Token</label>
        <input id="token" type="password" autocomplete="off" spellcheck={false} required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <div>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
