import { UseGuards } from '@nestjs/common';
import { Args, Context, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { requestActor } from '../auth/actor';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import type { Actor } from '../common/actor';
import { ActorModel } from '../common/actor.model';
import { Metrics } from '../metrics/metrics';
import { GqlThrottlerGuard } from '../rate-limit/gql-throttler.guard';
import { CreateOperatorInput, UpdateOperatorInput } from './dto/operator.inputs';
import { OperatorCredentialModel, OperatorModel } from './models/operator.model';
import { OperatorsService } from './operators.service';

/** Who am I, and the operators' credentials (roles per field: src/auth/field-roles.ts). */
@Resolver()
@UseGuards(GqlThrottlerGuard)
export class OperatorsResolver {
  constructor(
    private readonly service: OperatorsService,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => ActorModel, { description: 'The credential this request is made with, as the journal records it.' })
  me(@Context('req') req: AuthenticatedRequest): Promise<Actor> {
    return this.metrics.measure('me', async () => requestActor(req));
  }

  @Query(() => [OperatorModel], { description: 'Operators, oldest first; revoked ones only when asked.' })
  operators(@Args('includeRevoked', { type: () => Boolean, defaultValue: false }) includeRevoked: boolean): Promise<OperatorModel[]> {
    return this.metrics.measure('operators', async () => (await this.service.list(includeRevoked)).map(OperatorModel.from));
  }

  @Mutation(() => OperatorCredentialModel, { nullable: true, description: 'A new operator; its token is in this answer only.' })
  createOperator(@Args('input') input: CreateOperatorInput, @Context('req') req: AuthenticatedRequest): Promise<OperatorCredentialModel> {
    return this.metrics.measure('createOperator', async () => {
      const { operator, token } = await this.service.create(requestActor(req), input);
      return { operator: OperatorModel.from(operator), token };
    });
  }

  @Mutation(() => OperatorModel, { nullable: true, description: "Changes an operator's role or limits; effective at once." })
  updateOperator(@Args('input') input: UpdateOperatorInput, @Context('req') req: AuthenticatedRequest): Promise<OperatorModel> {
    return this.metrics.measure('updateOperator', async () => OperatorModel.from(await this.service.update(requestActor(req), input)));
  }

  @Mutation(() => OperatorModel, {
    nullable: true,
    description: "Revokes an operator's token: refused at once here, within a second on every instance; its subscriptions are closed.",
  })
  revokeOperator(@Args('id', { type: () => ID }) id: string, @Context('req') req: AuthenticatedRequest): Promise<OperatorModel> {
    return this.metrics.measure('revokeOperator', async () => OperatorModel.from(await this.service.revoke(requestActor(req), id)));
  }
}
