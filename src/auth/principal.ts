import type { AdminPrincipal } from './admin-authenticator';

/** An end user of the app, authenticated by their Clerk session token. */
export interface UserPrincipal {
  kind: 'user';
  label: 'clerk';
  userId: string;
}

export type Principal = AdminPrincipal | UserPrincipal;
