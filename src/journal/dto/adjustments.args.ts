import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsCustomerId, IsWellFormedText } from '../../common/validators';
import { ADJUSTMENT_STATUSES } from '../../database/journal.schema';
import type { AdjustmentStatus } from '../../database/journal.schema';
import { AdjustmentStatusEnum } from '../models/adjustment-record.model';
import { MAX_PAGE_SIZE } from '../adjustment.repository';

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

  @Field(() => ID, { nullable: true, description: 'Adjustments made with this operator\'s credential.' })
  @IsOptional()
  @IsString()
  @IsWellFormedText()
  @Length(1, 100)
  operatorId?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsString()
  @IsWellFormedText()
  @Length(1, 100)
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

  @Field(() => Int, { defaultValue: 20, description: `1 to ${MAX_PAGE_SIZE}.` })
  @IsInt()
  @Min(1, { message: `must be 1 to ${MAX_PAGE_SIZE}` })
  @Max(MAX_PAGE_SIZE, { message: `must be 1 to ${MAX_PAGE_SIZE}` })
  first!: number;

  @Field(() => String, { nullable: true, description: 'pageInfo.endCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  after?: string | null;
}
