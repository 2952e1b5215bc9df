import { applyDecorators } from '@nestjs/common';
import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, NotEquals } from 'class-validator';
import { isWellFormedText } from '../../common/text';
import { IsCustomerId, IsReason, IsWellFormedText } from '../../common/validators';

export const MAX_ADJUSTMENT = 2_000_000_000;
// Declared before the class: its decorators read them while the class is being defined.
const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]+$/;
const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

/** The same rule for the input field and the `Idempotency-Key` header. */
export function isIdempotencyKey(value: string): boolean {
  return value.length >= 1 && value.length <= IDEMPOTENCY_KEY_MAX_LENGTH && IDEMPOTENCY_KEY_PATTERN.test(value) && isWellFormedText(value);
}

@InputType({ description: 'A grant (positive amount) or deduction (negative amount) with an audit reason.' })
export class AdjustCreditsInput {
  @Field(() => ID, { description: 'The RevenueCat customer id, which is the Clerk user_id.' })
  @IsCustomerId()
  userId!: string;

  @IsAdjustmentAmount()
  amount!: number;

  @Field({ description: 'Audit note shown on the RevenueCat dashboard, 3 to 500 characters; include a ticket reference.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsReason()
  reason!: string;

  @Field({ defaultValue: 'CRD', description: 'Virtual currency code; defaults to CRD (Credits).' })
  @IsWellFormedText()
  @Matches(/^[A-Za-z0-9_]{1,10}$/, { message: 'must be 1 to 10 letters, digits or underscores' })
  currency!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Replaying the same key returns the first result instead of adjusting again (for as long as the journal keeps the record: always).',
  })
  @IsOptional()
  @IsIdempotencyKey()
  idempotencyKey?: string | null;
}

/** An adjustment's `amount` (adjustCredits, a bulk item): a non-zero integer, at most 2,000,000,000 either way. */
export function IsAdjustmentAmount(): PropertyDecorator {
  return applyDecorators(
    Field(() => Int, { description: 'Positive grants, negative deducts; never 0; at most 2,000,000,000 either way.' }),
    IsInt({ message: 'must be an integer' }),
    NotEquals(0),
    Min(-MAX_ADJUSTMENT, { message: 'must be at least -2,000,000,000' }),
    Max(MAX_ADJUSTMENT, { message: 'must be at most 2,000,000,000' }),
  );
}

/** 1 to 200 printable ASCII characters: what fits an HTTP header unchanged. */
export function IsIdempotencyKey(): PropertyDecorator {
  return (target, property) => {
    IsString({ message: 'must be a string' })(target, property);
    IsWellFormedText()(target, property);
    Length(1, IDEMPOTENCY_KEY_MAX_LENGTH, { message: `must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters long` })(target, property);
    Matches(IDEMPOTENCY_KEY_PATTERN, { message: 'must be printable ASCII characters only' })(target, property);
  };
}
