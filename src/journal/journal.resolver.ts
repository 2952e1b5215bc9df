import { Args, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Roles } from '../auth/roles.decorator';
import { Metrics } from '../metrics/metrics';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { AdjustmentRecord, AdjustmentRepository } from './adjustment.repository';
import { Errors } from '../common/errors';
import { AdjustmentsArgs, AdjustmentsCsvArgs } from './dto/adjustments.args';
import { HISTORY_CSV_HEADER, historyCsvLine } from './history-csv';
import { AdjustmentConnection, AdjustmentRecordModel } from './models/adjustment-record.model';
import { toRecordModel } from './record-model';

/** The most rows one export returns: the whole answer is one GraphQL string, held in memory until sent. */
export const HISTORY_CSV_MAX_ROWS = 100_000;
/** The export's text is held whole (a GraphQL String): bounded so one export cannot take the process's memory. */
export const HISTORY_CSV_MAX_CHARS = 32 * 1024 * 1024;
const EXPORT_PAGE_SIZE = 1_000;

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

  @Query(() => String, {
    description: `A customer's whole history as CSV (RFC 4180, header row, newest first), read in pages on the server: one call, one unit of the reads budget. At most ${HISTORY_CSV_MAX_ROWS} rows and ${HISTORY_CSV_MAX_CHARS / 1024 / 1024} MiB of text (else export_too_large). A text cell beginning with =, +, -, @ (after blanks too, or full-width), tab, CR or LF is prefixed with '.`,
  })
  @Roles('VIEWER')
  @RateLimit('reads')
  adjustmentsCsv(@Args() { userId, status }: AdjustmentsCsvArgs): Promise<string> {
    return this.metrics.measure('adjustmentsCsv', async () => {
      const now = new Date();
      const lines = [HISTORY_CSV_HEADER];
      let rows = 0;
      let chars = HISTORY_CSV_HEADER.length;
      for await (const page of this.journal.pages({ userId, status: status ? [status] : undefined }, EXPORT_PAGE_SIZE)) {
        rows += page.length;
        if (rows > HISTORY_CSV_MAX_ROWS) throw Errors.exportTooLarge(`more than ${HISTORY_CSV_MAX_ROWS} rows`);
        for (const record of page) {
          const line = historyCsvLine(record, now);
          chars += line.length;
          if (chars > HISTORY_CSV_MAX_CHARS) throw Errors.exportTooLarge(`more than ${HISTORY_CSV_MAX_CHARS / 1024 / 1024} MiB of text`);
          lines.push(line);
        }
      }
      return lines.join('');
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
