import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import type { UsageChangedEvent } from './usage-changed.event';

/**
 * The event as GraphQL shows it. It adds one thing: `occurredAt` as a Date, which the DateTime scalar
 * needs (the event travels as JSON, so it carries the ISO text).
 */
@ObjectType('UsageChangedEvent', { description: 'Silent control envelope: the app refreshes its balance, no user-visible notification.' })
export class UsageChangedEventModel implements Omit<UsageChangedEvent, 'occurredAt'> {
  @Field(() => ID, { description: 'Unique per event, for de-duplication on the client.' })
  id!: string;

  @Field(() => String, { description: 'Always "usage.changed".' })
  type!: 'usage.changed';

  @Field(() => Boolean, { description: 'Always true.' })
  silent!: true;

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

  static from(event: UsageChangedEvent): UsageChangedEventModel {
    return { ...event, occurredAt: new Date(event.occurredAt) };
  }
}
