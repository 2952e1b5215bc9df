import type { OperatorRole } from '../gql/graphql';

const ROLE_RANK: Record<OperatorRole, number> = { VIEWER: 0, AGENT: 1, SUPERVISOR: 2, ADMIN: 3 };

/** Roles include the ones below them. Hiding a control is a courtesy; the gateway decides. */
export function atLeast(role: OperatorRole, needed: OperatorRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

export function formatAmount(amount: number, signed = false): string {
  const text = Math.abs(amount).toLocaleString('en-US');
  if (amount < 0) return `−${text}`;
  return signed ? `+${text}` : text;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "5 h 12 min left", for a PENDING approval's deadline. */
export function timeLeft(expiresAt: string, now: number): string {
  const ms = new Date(expiresAt).getTime() - now;
  if (!(ms > 0)) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'under a minute left';
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min left` : `${minutes} min left`;
}

export interface ActorLike {
  name: string;
  onBehalfOf?: string | null;
}

/** The credential, and the person an internal tool said it acted for. */
export function actorText(actor: ActorLike | null | undefined): string {
  if (!actor) return '';
  return actor.onBehalfOf ? `${actor.name} (for ${actor.onBehalfOf})` : actor.name;
}
