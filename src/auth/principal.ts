import type { AdminPrincipal } from './admin-authenticator';

/** An end user of the app, authenticated by their Clerk session token. */
export interface UserPrincipal {
  kind: 'user';
  label: 'clerk';
  userId: string;
  /** When the session token expires (epoch milliseconds); the realtime gateway closes the connection then. */
  expiresAt: number;
}

export type Principal = AdminPrincipal | UserPrincipal;
