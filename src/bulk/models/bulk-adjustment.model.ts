import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ActorModel } from '../../common/actor.model';
import { BULK_ADJUSTMENT_STATUSES, type BulkAdjustmentStatus } from '../../database/bulk.schema';
import { PageInfo } from '../../journal/models/adjustment-record.model';
import type { BulkAdjustmentView } from '../bulk-adjustments.service';

export const BulkAdjustmentStatusEnum = Object.fromEntries(BULK_ADJUSTMENT_STATUSES.map((status) => [status, status])) as {
  [S in BulkAdjustmentStatus]: S;
};
registerEnumType(BulkAdjustmentStatusEnum, {
  name: 'BulkAdjustmentStatus',
  description: 'DRAFT (items being added), RUNNING (items being sent), COMPLETED (every item settled), CANCELLED.',
});

@ObjectType('BulkAdjustment', { description: 'One bulk adjustment job: one currency and reason, up to 100,000 items (each a journal record).' })
export class BulkAdjustmentModel implements BulkAdjustmentView {
  @Field(() => ID)
  id!: string;

  @Field()
  currency!: string;

  @Field({ description: "Every item's reason, and its RevenueCat reference." })
  reason!: string;

  @Field(() => BulkAdjustmentStatusEnum)
  status!: BulkAdjustmentStatus;

  @Field(() => ActorModel, { description: 'Who created it: the actor of every item.' })
  createdBy!: ActorModel;

  @Field(() => Int, { description: 'Items added.' })
  total!: number;

  @Field(() => Int, { description: 'Items not settled yet (QUEUED, or PENDING: being sent).' })
  queued!: number;

  @Field(() => Int)
  applied!: number;

  @Field(() => Int)
  rejected!: number;

  @Field(() => Int, { description: 'Items whose outcome is unknown; retried with their key a few times while the job runs.' })
  unknown!: number;

  @Field(() => Int)
  cancelled!: number;

  @Field(() => Int, { nullable: true, description: 'RUNNING: seconds until every queued item is sent, at the current pace.' })
  etaSeconds!: number | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it became COMPLETED or CANCELLED.' })
  finishedAt!: Date | null;
}

@ObjectType()
export class BulkAdjustmentConnection {
  @Field(() => [BulkAdjustmentModel])
  nodes!: BulkAdjustmentModel[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
