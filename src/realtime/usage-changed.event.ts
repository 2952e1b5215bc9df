import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

/** The silent control envelope, as published and as delivered. `occurredAt` is ISO-8601. */
export interface UsageChangedEnvelope {
  id: string;
  type: 'usage.changed';
  silent: true;
  userId: string;
  currency: string;
  delta: number;
  balance: number;
  occurredAt: string;
}

/** What an applied adjustment tells its user's app. */
export interface AppliedChange {
  userId: string;
  currency: string;
  amount: number;
  balance: number;
  adjustedAt: Date;
}

export function usageChanged(id: string, change: AppliedChange): UsageChangedEnvelope {
  return {
    id,
    type: 'usage.changed',
    silent: true,
    userId: change.userId,
    currency: change.currency,
    delta: change.amount,
    balance: change.balance,
    occurredAt: change.adjustedAt.toISOString(),
  };
}

@ObjectType({ description: 'Silent control envelope: the app refreshes its balance, no user-visible notification.' })
export class UsageChangedEvent {
  @Field(() => ID, { description: 'Unique per event, for de-duplication on the client.' })
  id!: string;

  @Field({ description: 'Always "usage.changed".' })
  type!: string;

  @Field({ description: 'Always true.' })
  silent!: boolean;

  @Field(() => ID)
  userId!: string;

  @Field()
  currency!: string;

  @Field(() => Int, { description: 'The applied adjustment: positive granted, negative deducted.' })
  delta!: number;

  @Field(() => Int, { description: 'The balance of `currency` after the change.' })
  balance!: number;

  @Field(() => Date)
  occurredAt!: Date;
}
