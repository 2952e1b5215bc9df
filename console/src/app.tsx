import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ErrorNote, Link } from './components';
import { createGateway, GatewayError, type Gateway } from './lib/gateway';
import { atLeast } from './lib/format';
import { hrefOf, navigate, useRoute, type Route } from './lib/router';
import { MeQuery } from './operations';
import { SessionContext, tokenStore, useSession, type Session } from './session';
import { ApprovalsView } from './views/approvals';
import { BulkJobView } from './views/bulk-job';
import { BulkJobsView } from './views/bulk-jobs';
import { CustomerView } from './views/customer';
import { OperatorsView } from './views/operators';
import { SignInView } from './views/sign-in';

type State = { phase: 'checking' } | { phase: 'signed-out'; error?: unknown } | { phase: 'signed-in'; session: Session };

export function App() {
  const route = useRoute();
  const [state, setState] = useState<State>(() => (tokenStore.read() ? { phase: 'checking' } : { phase: 'signed-out' }));
  const [focusUserId, setFocusUserId] = useState(0);

  const signOut = useCallback((error?: unknown) => {
    tokenStore.clear();
    setState((current) => {
      if (current.phase === 'signed-in') current.session.gateway.dispose();
      return { phase: 'signed-out', error };
    });
  }, []);

  const signIn = useCallback(
    async (token: string): Promise<void> => {
      const gateway: Gateway = createGateway({ token, onRefused: (error) => signOut(error) });
      try {
        const { me } = await gateway.request(MeQuery, {});
        tokenStore.write(token);
        setState({ phase: 'signed-in', session: { gateway, me } });
      } catch (error) {
        gateway.dispose();
        tokenStore.clear();
        setState({ phase: 'signed-out', error });
      }
    },
    [signOut],
  );

  // A reload (or a pasted link in the same tab) keeps the session's token: check it once.
  useEffect(() => {
    const token = tokenStore.read();
    if (token) void signIn(token);
  }, [signIn]);

  // `/` jumps to the customer search from anywhere but a text field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      if (state.phase !== 'signed-in') return;
      event.preventDefault();
      if (route.view !== 'customer') navigate(hrefOf({ view: 'customer' }));
      setFocusUserId((n) => n + 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [state.phase, route.view]);

  useEffect(() => {
    document.title = `${titleOf(route)} · Credits console`;
  }, [route]);

  if (state.phase === 'checking') {
    return (
      <main class="page narrow">
        <p role="status">Checking the saved sign-in…</p>
      </main>
    );
  }
  if (state.phase === 'signed-out') {
    return <SignInView error={state.error} onSignIn={signIn} />;
  }
  return (
    <SessionContext.Provider value={state.session}>
      <Shell route={route} onSignOut={() => signOut()} />
      <main class="page" id="main">
        <ViewFor route={route} focusUserId={focusUserId} />
      </main>
    </SessionContext.Provider>
  );
}

function titleOf(route: Route): string {
  switch (route.view) {
    case 'customer':
      return route.userId ?? 'Customer';
    case 'approvals':
      return 'Approvals';
    case 'bulk':
      return route.id ?? 'Bulk jobs';
    case 'operators':
      return 'Operators';
    case 'not-found':
      return 'Not found';
  }
}

function ViewFor({ route, focusUserId }: { route: Route; focusUserId: number }) {
  switch (route.view) {
    case 'customer':
      return <CustomerView userId={route.userId} focusUserId={focusUserId} />;
    case 'approvals':
      return <ApprovalsView />;
    case 'bulk':
      return route.id === undefined ? <BulkJobsView /> : <BulkJobView id={route.id} />;
    case 'operators':
      return <OperatorsView />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <ErrorNote error={new GatewayError('not_found', `The console has no page at ${route.path}.`, undefined)} />
          <p>
            <Link href={hrefOf({ view: 'customer' })}>Look up a customer</Link>
          </p>
        </>
      );
  }
}

function Shell({ route, onSignOut }: { route: Route; onSignOut: () => void }) {
  const { me } = useSession();
  const links = useMemo(() => {
    const all: Array<{ label: string; target: Route; show: boolean }> = [
      { label: 'Customer', target: { view: 'customer' }, show: true },
      { label: 'Approvals', target: { view: 'approvals' }, show: true },
      { label: 'Bulk jobs', target: { view: 'bulk' }, show: atLeast(me.role, 'ADMIN') },
      { label: 'Operators', target: { view: 'operators' }, show: atLeast(me.role, 'SUPERVISOR') },
    ];
    return all.filter((link) => link.show);
  }, [me.role]);
  return (
    <header class="topbar">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <span class="brand">Credits console</span>
      <nav aria-label="Main">
        <ul>
          {links.map((link) => (
            <li key={link.label}>
              <Link href={hrefOf(link.target)} current={link.target.view === route.view}>
                {link.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span>
          Signed in as <strong>{me.name}</strong>
          {me.onBehalfOf ? ` for ${me.onBehalfOf}` : ''} <span class={`role role-${me.role.toLowerCase()}`}>{me.role}</span>
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
