import { ArgsType, Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IsIn, IsOptional } from 'class-validator';
import type { Actor } from '../common/actor';
import { ActorModel } from '../common/actor.model';
import { APPROVAL_STATUSES, type ApprovalStatus } from '../database/operators.schema';
import { PageInfo } from '../journal/models/adjustment-record.model';
import type { ApprovalRequestRecord } from '../credits/approval-request-store.port';
import { PageAfter, PageFirst } from '../journal/dto/page.args';

export const ApprovalStatusEnum = Object.fromEntries(APPROVAL_STATUSES.map((status) => [status, status])) as { [S in ApprovalStatus]: S };
registerEnumType(ApprovalStatusEnum, {
  name: 'ApprovalStatus',
  description: 'PENDING until a second person decides it, or EXPIRED 24 hours after it was made.',
});

@ObjectType('ApprovalRequest', { description: "An adjustment over its requester's limits, waiting for (or decided by) a second person." })
export class ApprovalRequestModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  userId!: string;

  @Field()
  currency!: string;

  @Field(() => Int)
  amount!: number;

  @Field()
  reason!: string;

  @Field({ description: "The adjustment's key: sending it again finds this request, or, once approved, the applied adjustment." })
  idempotencyKey!: string;

  @Field(() => ActorModel)
  requestedBy!: Actor;

  @Field(() => ApprovalStatusEnum)
  status!: ApprovalStatus;

  @Field(() => ActorModel, { nullable: true })
  decidedBy!: Actor | null;

  @Field(() => Date, { nullable: true })
  decidedAt!: Date | null;

  @Field(() => String, { nullable: true })
  decisionReason!: string | null;

  /** Resolved on demand (`adjustment`). */
  adjustmentId!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  expiresAt!: Date;

  static from(request: ApprovalRequestRecord): ApprovalRequestModel {
    return {
      id: request.id,
      userId: request.userId,
      currency: request.currency,
      amount: request.amount,
      reason: request.reason,
      idempotencyKey: request.idempotencyKey,
      requestedBy: {
        operatorId: request.requestedByOperatorId,
        name: request.requestedByName,
        role: request.requestedByRole,
        onBehalfOf: request.requestedByOnBehalfOf,
      },
      status: request.status,
      decidedBy:
        request.decidedByName === null || request.decidedByRole === null
          ? null
          : { operatorId: request.decidedByOperatorId, name: request.decidedByName, role: request.decidedByRole, onBehalfOf: request.decidedByOnBehalfOf },
      decidedAt: request.decidedAt,
      decisionReason: request.decisionReason,
      adjustmentId: request.adjustmentId,
      createdAt: request.createdAt,
      expiresAt: request.expiresAt,
    };
  }
}

@ObjectType()
export class ApprovalRequestConnection {
  @Field(() => [ApprovalRequestModel])
  nodes!: ApprovalRequestModel[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ArgsType()
export class ApprovalRequestsArgs {
  @Field(() => ApprovalStatusEnum, { nullable: true, description: 'Only requests with this status (as it reads now).' })
  @IsOptional()
  @IsIn(APPROVAL_STATUSES)
  status?: ApprovalStatus | null;

  @PageFirst(20)
  first!: number;

  @PageAfter()
  after?: string | null;
}
