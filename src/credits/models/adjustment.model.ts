import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { ActorModel } from '../../common/actor.model';
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

  @Field(() => String, {
    nullable: true,
    description: "The request's idempotency key, or the one the gateway assigned when none was sent (retry with it).",
  })
  idempotencyKey!: string;

  @Field({ description: 'True when this is the stored result of an earlier request with the same idempotency key.' })
  replayed!: boolean;

  @Field()
  adjustedAt!: Date;

  @Field(() => ActorModel, { description: 'Who made it: the credential used, and whom an internal tool said it acted for.' })
  actor!: ActorModel;

  @Field(() => ActorModel, { nullable: true, description: 'Who approved it, when it needed a second person.' })
  approvedBy!: ActorModel | null;

  /** Resolved by `reverses`. */
  reversesId!: string | null;
}
