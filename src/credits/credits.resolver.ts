import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { requestActor } from '../auth/request-actor';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import { Roles } from '../auth/roles.decorator';
import { Errors } from '../common/errors';
import { Balance, VirtualCurrency } from '../revenuecat/ledger.port';
import { Adjustment } from './adjustment';
import { AdjustmentsService } from './adjustments.service';
import { requestIdOf } from '../common/request-id';
import { CreditsService } from './credits.service';
import { Metrics } from '../metrics/metrics';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { AdjustCreditsInput, isIdempotencyKey } from './dto/adjust-credits.input';
import { BalancesArgs } from './dto/balances.args';
import { ReverseAdjustmentInput } from './dto/reverse-adjustment.input';
import { AdjustmentModel } from './models/adjustment.model';
import { BalanceModel } from './models/balance.model';
import { VirtualCurrencyModel } from './models/virtual-currency.model';

@Resolver()
export class CreditsResolver {
  constructor(
    private readonly credits: CreditsService,
    private readonly adjustments: AdjustmentsService,
    private readonly metrics: Metrics,
  ) {}

  @Query(() => [VirtualCurrencyModel], { description: "The project's configured virtual currencies." })
  @Roles('VIEWER')
  @RateLimit('currencies')
  currencies(): Promise<VirtualCurrency[]> {
    return this.metrics.measure('currencies', () => this.credits.currencies());
  }

  @Query(() => [BalanceModel], { description: "One customer's balances, keyed by Clerk user_id." })
  @Roles('VIEWER')
  @RateLimit('balances')
  balances(@Args() { userId, includeEmpty }: BalancesArgs, @Context('req') req: AuthenticatedRequest): Promise<Balance[]> {
    return this.metrics.measure('balances', () => this.credits.balances(userId, includeEmpty, requestIdOf(req)));
  }

  @Mutation(() => AdjustmentModel, {
    nullable: true,
    description: 'Grant (positive amount) or deduct (negative amount) credits with an audit reason, exactly once per idempotency key.',
  })
  @Roles('AGENT')
  @RateLimit('adjustCredits')
  adjustCredits(@Args('input') input: AdjustCreditsInput, @Context('req') req: AuthenticatedRequest): Promise<Adjustment> {
    return this.metrics.measure('adjustCredits', async () => {
      const idempotencyKey = resolveIdempotencyKey(input.idempotencyKey, req.headers['idempotency-key']);
      const actor = requestActor(req);
      const { userId, currency, amount, reason } = input;
      return this.adjustments.adjust({ userId, currency, amount, reason, idempotencyKey, actor, requestId: requestIdOf(req) });
    });
  }

  @Mutation(() => AdjustmentModel, {
    nullable: true,
    description:
      'Apply the opposite amount of one APPLIED adjustment, whole, exactly once: a new adjustment whose `reverses` is the original. ' +
      'A second reversal, whatever its key, is 409 already_reversed.',
  })
  @Roles('AGENT')
  @RateLimit('mutations')
  reverseAdjustment(@Args('input') input: ReverseAdjustmentInput, @Context('req') req: AuthenticatedRequest): Promise<Adjustment> {
    return this.metrics.measure('reverseAdjustment', async () => {
      const idempotencyKey = resolveIdempotencyKey(input.idempotencyKey, req.headers['idempotency-key']);
      const actor = requestActor(req);
      return this.adjustments.reverse({ adjustmentId: input.adjustmentId, reason: input.reason, idempotencyKey, actor, requestId: requestIdOf(req) });
    });
  }
}

/** The key may come in the input or as an `Idempotency-Key` header; both given, they must agree. */
function resolveIdempotencyKey(fromInput: string | null | undefined, header: string | string[] | undefined): string | null {
  if (Array.isArray(header)) throw Errors.invalidArgument('idempotencyKey', 'must be sent in one Idempotency-Key header');
  if (header !== undefined && !isIdempotencyKey(header)) {
    throw Errors.invalidArgument('idempotencyKey', 'header must be 1 to 200 printable ASCII characters');
  }
  if (fromInput != null && header !== undefined && fromInput !== header) {
    throw Errors.invalidArgument('idempotencyKey', 'differs from the Idempotency-Key header');
  }
  return fromInput ?? header ?? null;
}
