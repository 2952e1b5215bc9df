import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import type { Adjustment } from '../adjustment';
import { BalanceModel } from './balance.model';

@ObjectType('CreditAdjustment', { description: 'An applied grant or deduction.' })
export class AdjustmentModel implements Adjustment {
  @Field(() => ID, { description: "The gateway's id for this adjustment; the same on every replay." })
  id!: string;

  @Field(() => ID)
  userId!: string;

  @Field()
  currency!: string;

  @Field(() => Int)
  amount!: number;

  @Field()
  reason!: string;

  @Field(() => Int, { description: "The adjusted currency's balance after the adjustment." })
  balance!: number;

  @Field(() => [BalanceModel], { description: 'The balances RevenueCat returned with the transaction.' })
  balances!: BalanceModel[];

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field({ description: 'True when this is the stored result of an earlier request with the same idempotency key.' })
  replayed!: boolean;

  @Field()
  adjustedAt!: Date;
}
