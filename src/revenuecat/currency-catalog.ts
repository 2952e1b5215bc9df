import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Ledger, VirtualCurrency } from './ledger.port';

// An unknown code may be a currency created a moment ago; look again, but not more often than this.
const MISS_REFRESH_INTERVAL_MS = 5000;

/**
 * The project's currencies, cached briefly: RevenueCat allows 60 configuration calls a minute per key,
 * and the list rarely changes. Concurrent misses share one upstream call; failures are not cached.
 */
@Injectable()
export class CurrencyCatalog {
  private cached?: { at: number; currencies: VirtualCurrency[] };
  private inflight?: Promise<VirtualCurrency[]>;
  private readonly ttlMs: number;

  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ttlMs = config.revenueCat.currencyCacheTtlMs;
  }

  async list(): Promise<VirtualCurrency[]> {
    if (this.cached && this.age() < this.ttlMs) return this.cached.currencies;
    return this.refresh();
  }

  async find(code: string): Promise<VirtualCurrency | undefined> {
    const found = (await this.list()).find((currency) => currency.code === code);
    if (found || this.age() < MISS_REFRESH_INTERVAL_MS) return found;
    return (await this.refresh()).find((currency) => currency.code === code);
  }

  private age(): number {
    return this.cached ? this.clock.now() - this.cached.at : Infinity;
  }

  private refresh(): Promise<VirtualCurrency[]> {
    this.inflight ??= this.ledger
      .listCurrencies()
      .then((currencies) => {
        this.cached = { at: this.clock.now(), currencies };
        return currencies;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
