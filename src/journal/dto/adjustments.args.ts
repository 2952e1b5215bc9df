import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { IsCustomerId, IsWellFormedText } from '../../common/validators';
import { ADJUSTMENT_STATUSES } from '../../database/journal.schema';
import type { AdjustmentStatus } from '../../database/journal.schema';
import { AdjustmentStatusEnum } from '../models/adjustment-record.model';
import { PageAfter, PageFirst } from './page.args';

// C0 and C1 control characters, DEL included (PostgreSQL text cannot even hold U+0000).
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

@InputType('AdjustmentFilter', { description: 'Every given field must match (AND).' })
export class AdjustmentFilterInput {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsCustomerId()
  userId?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsWellFormedText()
  @Matches(/^[A-Za-z0-9_]{1,10}$/, { message: 'must be 1 to 10 letters, digits or underscores' })
  currency?: string | null;

  @Field(() => [AdjustmentStatusEnum], { nullable: true, description: 'Any of these.' })
  @IsOptional()
  @IsIn(ADJUSTMENT_STATUSES, { each: true })
  status?: AdjustmentStatus[] | null;

  @Field(() => ID, { nullable: true, description: "Adjustments made with this operator's credential." })
  @IsOptional()
  @IsString()
  @IsWellFormedText()
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'must not contain control characters' })
  operatorId?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsString()
  @IsWellFormedText()
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'must not contain control characters' })
  bulkAdjustmentId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after this instant.' })
  @IsOptional()
  @IsDate()
  createdAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before this instant.' })
  @IsOptional()
  @IsDate()
  createdBefore?: Date | null;
}

@ArgsType()
export class AdjustmentsArgs {
  @Field(() => AdjustmentFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => AdjustmentFilterInput)
  filter?: AdjustmentFilterInput | null;

  @PageFirst(20)
  first!: number;

  @PageAfter()
  after?: string | null;
}

@ArgsType()
export class AdjustmentsCsvArgs {
  @Field(() => ID, { description: 'The customer whose whole history is exported.' })
  @IsCustomerId()
  userId!: string;

  @Field(() => AdjustmentStatusEnum, { nullable: true, description: 'Only adjustments whose status reads this now.' })
  @IsOptional()
  @IsIn(ADJUSTMENT_STATUSES)
  status?: AdjustmentStatus | null;
}
