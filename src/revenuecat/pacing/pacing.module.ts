import { Global, Module } from '@nestjs/common';
import { TransactionPacing } from '../transaction-pacing.port';
import { TRANSACTION_PACER_PROVIDERS, TransactionPacer } from './transaction-pacer';

/**
 * The one RevenueCat transaction budget of the service. Global, so there is one pacer whichever module
 * asks: the RevenueCat ledger through its TransactionPacing port, the bulk runner for its slots.
 */
@Global()
@Module({
  providers: [...TRANSACTION_PACER_PROVIDERS, { provide: TransactionPacing, useExisting: TransactionPacer }],
  exports: [TransactionPacer, TransactionPacing],
})
export class PacingModule {}
