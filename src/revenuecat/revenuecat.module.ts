import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CurrencyCatalog } from './currency-catalog';
import { Ledger } from './ledger.port';
import { revenueCatHttpConfig } from './revenuecat-http.config';
import { RevenueCatLedger } from './revenuecat-ledger';
import { UpstreamStatus } from './upstream-status';

@Module({
  // registerAsync builds an axios instance of this module's own, set up for RevenueCat; the static
  // HttpModule would hand out axios's global instance, shared with every library in the process.
  imports: [HttpModule.registerAsync({ inject: [APP_CONFIG], useFactory: (config: AppConfig) => revenueCatHttpConfig(config) })],
  providers: [RevenueCatLedger, { provide: Ledger, useExisting: RevenueCatLedger }, CurrencyCatalog, UpstreamStatus],
  exports: [Ledger, CurrencyCatalog, UpstreamStatus],
})
export class RevenueCatModule {}
