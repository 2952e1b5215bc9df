import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { requestActor } from '../auth/request-actor';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { Errors } from '../common/errors';
import { AdjustmentConnection } from '../journal/models/adjustment-record.model';
import { toRecordModel } from '../journal/record-model';
import { Metrics } from '../metrics/metrics';
import { RateLimit, SkipRateLimit } from '../rate-limit/rate-limit.decorator';
import { BulkAdjustmentsService, BulkAdjustmentView } from './bulk-adjustments.service';
import { BulkProgressStream } from './bulk-progress';
import { CreateBulkAdjustmentInput, AddBulkAdjustmentItemsArgs, BulkAdjustmentIdArgs, BulkAdjustmentItemsArgs, BulkAdjustmentsArgs } from './dto/bulk-adjustment.args';
import { BulkAdjustmentConnection, BulkAdjustmentModel } from './models/bulk-adjustment.model';

/** Bulk adjustments: ADMIN for the mutations, VIEWER for the reads and the progress subscription. */
@Resolver(() => BulkAdjustmentModel)
export class BulkResolver {
  constructor(
    private readonly bulk: BulkAdjustmentsService,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => BulkAdjustmentModel, { nullable: true, description: 'One bulk adjustment by its id; null if none.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  bulkAdjustment(@Args() { id }: BulkAdjustmentIdArgs): Promise<BulkAdjustmentView | null> {
    return this.metrics.measure('bulkAdjustment', () => this.bulk.get(id));
  }

  @Query(() => BulkAdjustmentConnection, { description: 'Bulk adjustments, newest first.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  bulkAdjustments(@Args() { first, after }: BulkAdjustmentsArgs): Promise<BulkAdjustmentConnection> {
    return this.metrics.measure('bulkAdjustments', async () => {
      const page = await this.bulk.list(first, after);
      return { nodes: page.nodes, pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
    });
  }

  @Mutation(() => BulkAdjustmentModel, { nullable: true, description: 'A DRAFT bulk adjustment; add its items, then start it.' })
  @Roles('ADMIN')
  @RateLimit('mutations')
  createBulkAdjustment(@Args('input') input: CreateBulkAdjustmentInput, @Context('req') req: AuthenticatedRequest): Promise<BulkAdjustmentView> {
    return this.metrics.measure('createBulkAdjustment', () => {
      const createdBy = requestActor(req);
      return this.bulk.create({ currency: input.currency, reason: input.reason, idempotencyKey: input.idempotencyKey ?? null, createdBy });
    });
  }

  @Mutation(() => BulkAdjustmentModel, {
    nullable: true,
    description: 'Adds 1 to 500 items to a DRAFT bulk adjustment (up to 100,000 a job), all or none; a user at most once per job.',
  })
  @Roles('ADMIN')
  @RateLimit('bulkItems')
  addBulkAdjustmentItems(@Args() { id, items }: AddBulkAdjustmentItemsArgs): Promise<BulkAdjustmentView> {
    return this.metrics.measure('addBulkAdjustmentItems', () => this.bulk.addItems(id, items));
  }

  @Mutation(() => BulkAdjustmentModel, { nullable: true, description: 'Starts a DRAFT bulk adjustment: its items are sent, paced, exactly once each.' })
  @Roles('ADMIN')
  @RateLimit('mutations')
  startBulkAdjustment(@Args() { id }: BulkAdjustmentIdArgs): Promise<BulkAdjustmentView> {
    return this.metrics.measure('startBulkAdjustment', () => this.bulk.start(id));
  }

  @Mutation(() => BulkAdjustmentModel, { nullable: true, description: 'Stops a DRAFT or RUNNING bulk adjustment; its items not sent yet end CANCELLED.' })
  @Roles('ADMIN')
  @RateLimit('mutations')
  cancelBulkAdjustment(@Args() { id }: BulkAdjustmentIdArgs): Promise<BulkAdjustmentView> {
    return this.metrics.measure('cancelBulkAdjustment', () => this.bulk.cancel(id));
  }

  @Mutation(() => BulkAdjustmentModel, {
    nullable: true,
    description: "Sends a COMPLETED bulk adjustment's UNKNOWN items again under their own keys: RUNNING until they are settled, then COMPLETED.",
  })
  @Roles('ADMIN')
  @RateLimit('mutations')
  retryBulkAdjustment(@Args() { id }: BulkAdjustmentIdArgs, @Context('req') req: AuthenticatedRequest): Promise<BulkAdjustmentView> {
    return this.metrics.measure('retryBulkAdjustment', () => this.bulk.retry(id, requestActor(req)));
  }

  @Subscription(() => BulkAdjustmentModel, {
    description: "The job's state on subscribe, then at most once a second while it changes, and once when it ends (then the stream completes).",
    resolve: (view: BulkAdjustmentView) => view,
  })
  @Roles('VIEWER')
  @SkipRateLimit()
  bulkAdjustmentProgress(@Args() { id }: BulkAdjustmentIdArgs, @Context() { principal }: { principal?: Principal }): Promise<BulkProgressStream> {
    return this.metrics.measure('bulkAdjustmentProgress', async () => {
      if (principal?.kind !== 'admin') throw Errors.missingBearer();
      const first = await this.bulk.get(id);
      if (!first) throw Errors.notFound('id');
      return new BulkProgressStream(first, () => this.bulk.get(id));
    });
  }

  @ResolveField('items', () => AdjustmentConnection, { description: "The job's items (journal records), newest first; optionally of one status." })
  async items(@Parent() job: BulkAdjustmentModel, @Args() { status, first, after }: BulkAdjustmentItemsArgs): Promise<AdjustmentConnection> {
    const page = await this.bulk.items(job.id, status ?? null, first, after);
    return { nodes: page.nodes.map(toRecordModel), pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
  }
}
