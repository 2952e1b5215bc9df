import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { MeQuery } from './gql/graphql';
import type { Gateway } from './lib/gateway';

export type Me = MeQuery['me'];

export interface Session {
  gateway: Gateway;
  me: Me;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

// sessionStorage: gone when the tab closes, never sent with a request like a cookie, not shared with
// other tabs the way localStorage is.
const TOKEN_KEY = 'credits-console.token';

export const tokenStore = {
  read: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  write: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};
