import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { CurrencyCatalog } from './currency-catalog';
import { Ledger } from './ledger.port';
import { RevenueCatLedger } from './revenuecat-ledger';
import { UpstreamStatus } from './upstream-status';

@Module({
  imports: [HttpModule],
  providers: [RevenueCatLedger, { provide: Ledger, useExisting: RevenueCatLedger }, CurrencyCatalog, UpstreamStatus],
  exports: [Ledger, CurrencyCatalog, UpstreamStatus],
})
export class RevenueCatModule {}
