import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { CurrencyCatalog } from './currency-catalog';
import { Ledger } from './ledger.port';
import { RevenueCatLedger } from './revenuecat-ledger';
import { UpstreamStatus } from './upstream-status';

@Module({
  // An axios instance of this app's own (the static HttpModule hands out axios's global default
  // instance, shared with every app and library in the process), which RevenueCatLedger sets up.
  imports: [HttpModule.registerAsync({ useFactory: () => ({}) })],
  providers: [RevenueCatLedger, { provide: Ledger, useExisting: RevenueCatLedger }, CurrencyCatalog, UpstreamStatus],
  exports: [Ledger, CurrencyCatalog, UpstreamStatus],
})
export class RevenueCatModule {}
