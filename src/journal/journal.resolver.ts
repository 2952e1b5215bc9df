import { Args, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Roles } from '../auth/roles.decorator';
import { Metrics } from '../metrics/metrics';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { AdjustmentRecord, AdjustmentRepository } from './adjustment.repository';
import { AdjustmentsArgs } from './dto/adjustments.args';
import { AdjustmentConnection, AdjustmentRecordModel } from './models/adjustment-record.model';
import { toRecordModel } from './record-model';

/** History without RevenueCat access: one adjustment, or pages of them, newest first. */
@Resolver(() => AdjustmentRecordModel)
export class JournalResolver {
  constructor(
    private readonly journal: AdjustmentRepository,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => AdjustmentRecordModel, { nullable: true, description: 'One journal entry by its id (the CreditAdjustment id); null if none.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  adjustment(@Args('id', { type: () => ID }) id: string): Promise<AdjustmentRecordModel | null> {
    return this.metrics.measure('adjustment', async () => {
      const record = await this.journal.findById(id);
      return record && toRecordModel(record);
    });
  }

  @Query(() => AdjustmentConnection, { description: 'Journal entries, newest first; filters combine with AND.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  adjustments(@Args() { filter, first, after }: AdjustmentsArgs): Promise<AdjustmentConnection> {
    return this.metrics.measure('adjustments', async () => {
      const page = await this.journal.list(
        {
          userId: filter?.userId ?? undefined,
          currency: filter?.currency ?? undefined,
          status: filter?.status ?? undefined,
          operatorId: filter?.operatorId ?? undefined,
          bulkAdjustmentId: filter?.bulkAdjustmentId ?? undefined,
          createdAfter: filter?.createdAfter ?? undefined,
          createdBefore: filter?.createdBefore ?? undefined,
        },
        first,
        after,
      );
      return { nodes: page.nodes.map(toRecordModel), pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
    });
  }

  @ResolveField('reverses', () => AdjustmentRecordModel, { nullable: true })
  reverses(@Parent() record: AdjustmentRecordModel): Promise<AdjustmentRecordModel | null> {
    return this.byId(record.reversesId);
  }

  @ResolveField('reversedBy', () => AdjustmentRecordModel, { nullable: true })
  reversedBy(@Parent() record: AdjustmentRecordModel): Promise<AdjustmentRecordModel | null> {
    return this.byId(record.reversedById);
  }

  private async byId(id: string | null): Promise<AdjustmentRecordModel | null> {
    if (id === null) return null;
    const record: AdjustmentRecord | null = await this.journal.findById(id);
    return record && toRecordModel(record);
  }
}
