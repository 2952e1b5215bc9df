import { Args, ArgsType, Context, Field, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { requestActor } from '../auth/request-actor';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import { Roles } from '../auth/roles.decorator';
import { IsReason } from '../common/validators';
import type { Adjustment } from '../credits/adjustment';
import { AdjustmentModel } from '../credits/models/adjustment.model';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { AdjustmentRecordModel } from '../journal/models/adjustment-record.model';
import { toRecordModel } from '../journal/record-model';
import { Metrics } from '../metrics/metrics';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { ApprovalRequestConnection, ApprovalRequestModel, ApprovalRequestsArgs } from './approval-request.model';
import { ApprovalsService } from './approvals.service';

@ArgsType()
class RejectArgs {
  @Field(() => ID)
  @IsString()
  @Length(1, 200)
  id!: string;

  @Field({ description: 'Why, for the requester: 3 to 500 characters.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsReason()
  reason!: string;
}

/** Approval requests and their decisions. */
@Resolver(() => ApprovalRequestModel)
export class ApprovalsResolver {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly journal: AdjustmentRepository,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => ApprovalRequestConnection, { description: 'Approval requests, newest first.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  approvalRequests(@Args() { status, first, after }: ApprovalRequestsArgs): Promise<ApprovalRequestConnection> {
    return this.metrics.measure('approvalRequests', async () => {
      const page = await this.approvals.list(status, first, after);
      return { nodes: page.nodes.map(ApprovalRequestModel.from), pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
    });
  }

  @Mutation(() => AdjustmentModel, {
    nullable: true,
    description: "Approves a PENDING request (someone other than its requester, within one's own maxAdjustment) and applies it exactly once.",
  })
  @Roles('SUPERVISOR')
  @RateLimit('mutations')
  approveAdjustment(@Args('id', { type: () => ID }) id: string, @Context('req') req: AuthenticatedRequest): Promise<Adjustment> {
    return this.metrics.measure('approveAdjustment', () => this.approvals.approve(requestActor(req), id));
  }

  @Mutation(() => ApprovalRequestModel, { nullable: true, description: 'Rejects a PENDING request with a reason; nothing is applied.' })
  @Roles('SUPERVISOR')
  @RateLimit('mutations')
  rejectAdjustment(@Args() { id, reason }: RejectArgs, @Context('req') req: AuthenticatedRequest): Promise<ApprovalRequestModel> {
    return this.metrics.measure('rejectAdjustment', async () => ApprovalRequestModel.from(await this.approvals.reject(requestActor(req), id, reason)));
  }

  @ResolveField('adjustment', () => AdjustmentRecordModel, { nullable: true, description: 'Once approved: the journal record that applies it.' })
  async adjustment(@Parent() request: ApprovalRequestModel): Promise<AdjustmentRecordModel | null> {
    if (request.adjustmentId === null) return null;
    const record = await this.journal.findById(request.adjustmentId);
    return record && toRecordModel(record);
  }
}
