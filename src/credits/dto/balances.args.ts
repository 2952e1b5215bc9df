import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsCustomerId } from '../../common/validators';

@ArgsType()
export class BalancesArgs {
  @Field(() => ID, { description: 'The RevenueCat customer id, which is the Clerk user_id (e.g. user_2abcXYZ).' })
  @IsCustomerId()
  userId!: string;

  @Field(() => Boolean, { defaultValue: false, description: 'Also list currencies whose balance is zero.' })
  includeEmpty!: boolean;
}
