import type { Balance } from '../revenuecat/ledger.port';

export interface AdjustmentRequest {
  userId: string;
  currency: string;
  amount: number;
  /** Already trimmed. */
  reason: string;
  idempotencyKey: string | null;
}

/** An applied grant or deduction, as answered (GraphQL `CreditAdjustment`) and as kept for replays. */
export interface Adjustment {
  id: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  balance: number;
  balances: Balance[];
  idempotencyKey: string | null;
  replayed: boolean;
  adjustedAt: Date;
}
