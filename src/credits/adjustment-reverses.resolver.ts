import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { AdjustmentRecordModel } from '../journal/models/adjustment-record.model';
import { toRecordModel } from '../journal/record-model';
import { AdjustmentModel } from './models/adjustment.model';

/** `CreditAdjustment.reverses`: the journal entry of the adjustment a reversal undid. */
@Resolver(() => AdjustmentModel)
export class AdjustmentReversesResolver {
  constructor(private readonly journal: AdjustmentRepository) {}

  @ResolveField('reverses', () => AdjustmentRecordModel, { nullable: true, description: 'The adjustment this one reverses.' })
  async reverses(@Parent() adjustment: AdjustmentModel): Promise<AdjustmentRecordModel | null> {
    if (adjustment.reversesId === null) return null;
    const record = await this.journal.findById(adjustment.reversesId);
    return record && toRecordModel(record);
  }
}
