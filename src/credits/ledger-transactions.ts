import { Inject, Injectable } from '@nestjs/common';
import { Errors } from '../common/errors';
import type { Attempt } from '../idempotency/exactly-once';
import type { AdjustmentRecord } from '../idempotency/idempotency-store.port';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger, type TransactionOptions } from '../revenuecat/ledger.port';
import { fromRevenueCatError, fromTransactionError, RevenueCatError } from '../revenuecat/revenuecat-error';

/**
 * What every adjustment (interactive, reversal, approved, bulk item) asks of RevenueCat: the currency check
 * before a new one, and the transaction of a claimed journal record under its own upstream key, reported
 * as the exactly-once protocol's Attempt.
 */
@Injectable()
export class LedgerTransactions {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    private readonly catalog: CurrencyCatalog,
  ) {}

  /** 400 unknown_currency unless the project has `code`; the catalogue's own failure as its RevenueCat error. */
  async requireCurrency(code: string): Promise<void> {
    let known: boolean;
    try {
      known = (await this.catalog.find(code)) !== undefined;
    } catch (error) {
      throw fromRevenueCatError(error, 'project');
    }
    if (!known) throw Errors.unknownCurrency(code);
  }

  /** The RevenueCat transaction of a claimed record, under the record's own upstream key. */
  async apply(record: AdjustmentRecord, options?: TransactionOptions): Promise<Attempt> {
    let balances: Balance[];
    try {
      balances = await this.ledger.createTransaction(
        record.userId,
        { adjustments: { [record.currency]: record.amount }, reference: record.reason },
        record.upstreamKey,
        options,
      );
    } catch (failure) {
      if (!(failure instanceof RevenueCatError)) {
        // Not an upstream answer (a bug on our side, mid-exchange): RevenueCat may have applied it.
        return { status: 'UNKNOWN', error: Errors.internal() };
      }
      const error = await fromTransactionError(failure, record.amount, () => this.currentBalance(record));
      return failure.outcomeUnknown ? { status: 'UNKNOWN', error } : { status: 'REJECTED', error };
    }
    return {
      status: 'APPLIED',
      balance: balances.find((balance) => balance.currency === record.currency)?.balance ?? 0,
      balances: boundedBalances(balances, record.currency),
    };
  }

  private async currentBalance(record: AdjustmentRecord): Promise<number | undefined> {
    try {
      const balances = await this.ledger.listBalances(record.userId, { includeEmpty: true });
      return balances.find((balance) => balance.currency === record.currency)?.balance ?? 0;
    } catch {
      return undefined;
    }
  }
}

/**
 * A project holds at most 100 currencies, so a customer has at most 100 balances. The list is answered
 * and stored in the journal: an upstream answer listing more is cut to 100 (the adjusted currency
 * kept), so neither the answer nor the record grows with what RevenueCat sends.
 */
const MAX_PROJECT_CURRENCIES = 100;

function boundedBalances(balances: Balance[], adjusted: string): Balance[] {
  if (balances.length <= MAX_PROJECT_CURRENCIES) return balances;
  const hasAdjusted = balances.some((balance) => balance.currency === adjusted);
  let others = hasAdjusted ? MAX_PROJECT_CURRENCIES - 1 : MAX_PROJECT_CURRENCIES;
  return balances.filter((balance) => balance.currency === adjusted || others-- > 0);
}
