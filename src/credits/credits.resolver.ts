import { UseGuards } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { CreditsService } from './credits.service';
import { BalancesArgs } from './dto/balances.args';
import { CurrencyBalance } from './models/currency-balance.model';
import { VirtualCurrency } from './models/virtual-currency.model';

@Resolver()
@UseGuards(AdminAuthGuard)
export class CreditsResolver {
  constructor(private readonly credits: CreditsService) {}

  @Query(() => [VirtualCurrency], { description: "The project's configured virtual currencies." })
  currencies(): Promise<VirtualCurrency[]> {
    return this.credits.currencies();
  }

  @Query(() => [CurrencyBalance], { description: "One customer's balances, keyed by Clerk user_id." })
  balances(@Args() { userId, includeEmpty }: BalancesArgs): Promise<CurrencyBalance[]> {
    return this.credits.balances(userId, includeEmpty);
  }
}
