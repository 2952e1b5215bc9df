import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { Balance } from '../../revenuecat/ledger.port';

@ObjectType('CurrencyBalance', { description: "One customer's balance of one virtual currency." })
export class BalanceModel implements Balance {
  @Field({ description: 'The currency code.' })
  currency!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Int)
  balance!: number;
}
