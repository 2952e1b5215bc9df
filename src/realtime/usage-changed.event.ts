/** The silent control envelope, as published (through Redis too) and as delivered. `occurredAt` is ISO-8601. */
export interface UsageChangedEvent {
  id: string;
  type: 'usage.changed';
  silent: true;
  userId: string;
  currency: string;
  delta: number;
  balance: number;
  occurredAt: string;
}

/** What an applied adjustment tells its user's app. */
export interface AppliedChange {
  userId: string;
  currency: string;
  amount: number;
  balance: number;
  adjustedAt: Date;
}

export function usageChanged(id: string, change: AppliedChange): UsageChangedEvent {
  return {
    id,
    type: 'usage.changed',
    silent: true,
    userId: change.userId,
    currency: change.currency,
    delta: change.amount,
    balance: change.balance,
    occurredAt: change.adjustedAt.toISOString(),
  };
}
