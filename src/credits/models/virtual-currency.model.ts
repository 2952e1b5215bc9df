import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'How a product purchase grants a virtual currency.' })
export class ProductGrant {
  @Field(() => [String])
  productIds!: string[];

  @Field(() => Int)
  amount!: number;

  @Field(() => Int, { nullable: true })
  trialAmount!: number | null;

  @Field(() => Boolean, { nullable: true })
  expireAtCycleEnd!: boolean | null;
}

@ObjectType({ description: 'A virtual currency configured in the RevenueCat project.' })
export class VirtualCurrency {
  @Field()
  code!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [ProductGrant])
  productGrants!: ProductGrant[];
}
