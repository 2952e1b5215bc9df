import { Args, Context, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { requestActor } from '../auth/request-actor';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import { Roles } from '../auth/roles.decorator';
import type { Actor } from '../common/actor';
import { ActorModel } from '../common/actor.model';
import { Metrics } from '../metrics/metrics';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { CreateOperatorInput, UpdateOperatorInput } from './dto/operator.inputs';
import { OperatorCredentialModel, OperatorModel } from './models/operator.model';
import { OperatorsService } from './operators.service';

/** Who am I, and the operators' credentials. */
@Resolver()
export class OperatorsResolver {
  constructor(
    private readonly service: OperatorsService,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => ActorModel, { description: 'The credential this request is made with, as the journal records it.' })
  @Roles('VIEWER')
  @RateLimit('reads')
  me(@Context('req') req: AuthenticatedRequest): Promise<Actor> {
    return this.metrics.measure('me', async () => requestActor(req));
  }

  @Query(() => [OperatorModel], { description: 'Operators, oldest first; revoked ones only when asked.' })
  @Roles('SUPERVISOR')
  @RateLimit('reads')
  operators(@Args('includeRevoked', { type: () => Boolean, defaultValue: false }) includeRevoked: boolean): Promise<OperatorModel[]> {
    return this.metrics.measure('operators', async () => (await this.service.list(includeRevoked)).map(OperatorModel.from));
  }

  @Mutation(() => OperatorCredentialModel, { nullable: true, description: 'A new operator; its token is in this answer only.' })
  @Roles('SUPERVISOR')
  @RateLimit('mutations')
  createOperator(@Args('input') input: CreateOperatorInput, @Context('req') req: AuthenticatedRequest): Promise<OperatorCredentialModel> {
    return this.metrics.measure('createOperator', async () => {
      const { operator, token } = await this.service.create(requestActor(req), input);
      return { operator: OperatorModel.from(operator), token };
    });
  }

  @Mutation(() => OperatorModel, { nullable: true, description: "Changes an operator's role or limits; effective at once." })
  @Roles('SUPERVISOR')
  @RateLimit('mutations')
  updateOperator(@Args('input') input: UpdateOperatorInput, @Context('req') req: AuthenticatedRequest): Promise<OperatorModel> {
    return this.metrics.measure('updateOperator', async () => OperatorModel.from(await this.service.update(requestActor(req), input)));
  }

  @Mutation(() => OperatorModel, {
    nullable: true,
    description: "Revokes an operator's token: refused at once here, within a second on every instance; its subscriptions are closed.",
  })
  @Roles('SUPERVISOR')
  @RateLimit('mutations')
  revokeOperator(@Args('id', { type: () => ID }) id: string, @Context('req') req: AuthenticatedRequest): Promise<OperatorModel> {
    return this.metrics.measure('revokeOperator', async () => OperatorModel.from(await this.service.revoke(requestActor(req), id)));
  }
}
