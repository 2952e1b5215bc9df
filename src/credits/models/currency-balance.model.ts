import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: "One customer's balance of one virtual currency." })
export class CurrencyBalance {
  @Field({ description: 'The currency code.' })
  currency!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Int)
  balance!: number;
}
