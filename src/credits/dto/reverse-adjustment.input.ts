import { Field, ID, InputType } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsReason, IsWellFormedText } from '../../common/validators';
import { IsIdempotencyKey } from './adjust-credits.input';

@InputType({ description: 'Undo one APPLIED adjustment, whole, exactly once.' })
export class ReverseAdjustmentInput {
  @Field(() => ID, { description: 'The id of the adjustment to reverse (CreditAdjustment.id, AdjustmentRecord.id).' })
  @IsString({ message: 'must be a string' })
  @IsWellFormedText()
  // Longer than any id the gateway gives; an id of the right length that names nothing is not_found.
  @Length(1, 200, { message: 'must be 1 to 200 characters long' })
  adjustmentId!: string;

  @Field({ description: 'Why it is reversed: 3 to 500 characters, sent to RevenueCat as the reference; include a ticket reference.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsReason()
  reason!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Replaying the same key returns the first result (or error) instead of reversing again; also accepted as an Idempotency-Key header.',
  })
  @IsOptional()
  @IsIdempotencyKey()
  idempotencyKey?: string | null;
}
