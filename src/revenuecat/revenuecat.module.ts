import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { CurrencyCatalog } from './currency-catalog';
import { Ledger } from './ledger.port';
import { RevenueCatLedger } from './revenuecat-ledger';

@Module({
  imports: [HttpModule],
  providers: [RevenueCatLedger, { provide: Ledger, useExisting: RevenueCatLedger }, CurrencyCatalog],
  exports: [Ledger, CurrencyCatalog],
})
export class RevenueCatModule {}
