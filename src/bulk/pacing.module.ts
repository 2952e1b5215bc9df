import { Global, Module } from '@nestjs/common';
import { TransactionPacing } from '../revenuecat/transaction-pacing.port';
import { TRANSACTION_PACER_PROVIDERS, TransactionPacer } from './transaction-pacer';

/**
 * The one RevenueCat transaction budget of the service. Global, so the RevenueCat ledger finds its
 * TransactionPacing port without importing this folder (bulk/ depends on revenuecat/, not the reverse).
 */
@Global()
@Module({
  providers: [...TRANSACTION_PACER_PROVIDERS, { provide: TransactionPacing, useExisting: TransactionPacer }],
  exports: [TransactionPacer, TransactionPacing],
})
export class PacingModule {}
