import { Inject, Injectable } from '@nestjs/common';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger, VirtualCurrency } from '../revenuecat/ledger.port';
import { fromRevenueCatError } from '../revenuecat/revenuecat-error';

@Injectable()
export class CreditsService {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    private readonly catalog: CurrencyCatalog,
  ) {}

  async currencies(): Promise<VirtualCurrency[]> {
    try {
      return await this.catalog.list();
    } catch (error) {
      throw fromRevenueCatError(error, 'project');
    }
  }

  async balances(userId: string, includeEmpty: boolean, requestId?: string): Promise<Balance[]> {
    try {
      return await this.ledger.listBalances(userId, { includeEmpty, requestId });
    } catch (error) {
      throw fromRevenueCatError(error, 'customer');
    }
  }
}
