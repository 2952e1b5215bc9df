import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { ProductGrant, VirtualCurrency } from '../../revenuecat/ledger.port';

@ObjectType('ProductGrant', { description: 'How a product purchase grants a virtual currency.' })
export class ProductGrantModel implements ProductGrant {
  @Field(() => [String])
  productIds!: string[];

  @Field(() => Int)
  amount!: number;

  @Field(() => Int, { nullable: true })
  trialAmount!: number | null;

  @Field(() => Boolean, { nullable: true })
  expireAtCycleEnd!: boolean | null;
}

@ObjectType('VirtualCurrency', { description: 'A virtual currency configured in the RevenueCat project.' })
export class VirtualCurrencyModel implements VirtualCurrency {
  @Field()
  code!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [ProductGrantModel])
  productGrants!: ProductGrantModel[];
}
