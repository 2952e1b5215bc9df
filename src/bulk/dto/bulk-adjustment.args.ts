import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { IsCustomerId, IsReason, IsWellFormedText } from '../../common/validators';
import { IsAdjustmentAmount, IsIdempotencyKey } from '../../credits/dto/adjust-credits.input';
import { ADJUSTMENT_STATUSES, type AdjustmentStatus } from '../../database/journal.schema';
import { AdjustmentStatusEnum } from '../../journal/models/adjustment-record.model';
import { PageAfter, PageFirst } from '../../journal/dto/page.args';

// Declared before the classes: their decorators read them while the classes are being defined.
const MAX_ITEMS_PER_CALL = 500;

@InputType({ description: 'A bulk adjustment: every item shares its currency and reason.' })
export class CreateBulkAdjustmentInput {
  @Field({ defaultValue: 'CRD', description: 'Virtual currency code; defaults to CRD (Credits).' })
  @IsWellFormedText()
  @Matches(/^[A-Za-z0-9_]{1,10}$/, { message: 'must be 1 to 10 letters, digits or underscores' })
  currency!: string;

  @Field({ description: 'Audit note of every item, shown on the RevenueCat dashboard, 3 to 500 characters; include the incident or ticket reference.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsReason()
  reason!: string;

  @Field(() => String, { nullable: true, description: 'Creating again with the same key answers the same job instead of a second one.' })
  @IsOptional()
  @IsIdempotencyKey()
  idempotencyKey?: string | null;
}

@InputType({ description: 'One customer of a bulk adjustment, validated like adjustCredits.' })
export class BulkAdjustmentItemInput {
  @Field(() => ID, { description: 'The RevenueCat customer id (the Clerk user_id); at most once per job.' })
  @IsCustomerId()
  userId!: string;

  @IsAdjustmentAmount()
  amount!: number;
}

@ArgsType()
export class AddBulkAdjustmentItemsArgs {
  @Field(() => ID)
  @IsString()
  @IsWellFormedText()
  @Length(1, 200)
  id!: string;

  @Field(() => [BulkAdjustmentItemInput], { description: `1 to ${MAX_ITEMS_PER_CALL} items a call, up to 100,000 a job; all are added or none.` })
  @IsArray()
  @ArrayMinSize(1, { message: `must hold 1 to ${MAX_ITEMS_PER_CALL} items` })
  @ArrayMaxSize(MAX_ITEMS_PER_CALL, { message: `must hold 1 to ${MAX_ITEMS_PER_CALL} items` })
  @ValidateNested({ each: true })
  @Type(() => BulkAdjustmentItemInput)
  items!: BulkAdjustmentItemInput[];
}

@ArgsType()
export class BulkAdjustmentIdArgs {
  @Field(() => ID)
  @IsString()
  @IsWellFormedText()
  @Length(1, 200)
  id!: string;
}

@ArgsType()
export class BulkAdjustmentsArgs {
  @PageFirst(20)
  first!: number;

  @PageAfter()
  after?: string | null;
}

@ArgsType()
export class BulkAdjustmentItemsArgs {
  @Field(() => AdjustmentStatusEnum, { nullable: true, description: 'Only items in this status.' })
  @IsOptional()
  @IsIn(ADJUSTMENT_STATUSES)
  status?: AdjustmentStatus | null;

  @PageFirst(50)
  first!: number;

  @PageAfter()
  after?: string | null;
}
