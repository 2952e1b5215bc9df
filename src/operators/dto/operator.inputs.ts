import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { OPERATOR_ROLES, type OperatorRole } from '../../common/actor';
import { OperatorRoleEnum } from '../../common/actor.model';
import { IsWellFormedText } from '../../common/validators';

const MAX_LIMIT = 2_000_000_000;
const NAME_LENGTH = 100;
// Printable: no control character and no invisible format character (a name is read by people in audits).
const PRINTABLE = /^[^\p{Cc}\p{Cf}]+$/u;

function IsLimit(): PropertyDecorator {
  return (target, property) => {
    IsOptional()(target, property);
    IsInt({ message: 'must be an integer' })(target, property);
    Min(1, { message: 'must be at least 1 (null: no limit)' })(target, property);
    Max(MAX_LIMIT, { message: 'must be at most 2,000,000,000' })(target, property);
  };
}

@InputType({ description: 'A new operator; SUPERVISORs may create VIEWERs and AGENTs, ADMINs anyone.' })
export class CreateOperatorInput {
  @Field({ description: 'Who holds the token, as audits will show it (1 to 100 printable characters).' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @IsWellFormedText()
  @Length(1, NAME_LENGTH, { message: `must be 1 to ${NAME_LENGTH} characters after trimming` })
  @Matches(PRINTABLE, { message: 'must be printable characters only' })
  name!: string;

  @Field(() => OperatorRoleEnum)
  @IsIn(OPERATOR_ROLES)
  role!: OperatorRole;

  @Field(() => Int, { nullable: true, description: 'Bound on |amount| of one adjustment; null: none.' })
  @IsLimit()
  maxAdjustment?: number | null;

  @Field(() => Int, { nullable: true, description: 'Bound on the sum of |amount| applied in one UTC day; null: none.' })
  @IsLimit()
  dailyLimit?: number | null;
}

@InputType({ description: 'Changes an operator: omitted fields stay; clearLimits removes both limits.' })
export class UpdateOperatorInput {
  @Field(() => ID)
  @IsString()
  @Length(1, 200)
  id!: string;

  @Field(() => OperatorRoleEnum, { nullable: true })
  @IsOptional()
  @IsIn(OPERATOR_ROLES)
  role?: OperatorRole | null;

  @Field(() => Int, { nullable: true })
  @IsLimit()
  maxAdjustment?: number | null;

  @Field(() => Int, { nullable: true })
  @IsLimit()
  dailyLimit?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Sets both limits to null (none) first; a maxAdjustment or dailyLimit given too is then set.' })
  @IsOptional()
  @IsBoolean()
  clearLimits?: boolean | null;
}
