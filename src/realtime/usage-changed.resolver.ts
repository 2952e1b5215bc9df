import { Args, ArgsType, Context, Field, ID, Resolver, Subscription } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { IsOptional } from 'class-validator';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { Errors } from '../common/errors';
import { IsCustomerId } from '../common/validators';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { SkipRateLimit } from '../rate-limit/rate-limit.decorator';
import { EventQueue } from './event-queue';
import type { UsageChangedEvent } from './usage-changed.event';
import { UsageChangedEventModel } from './usage-changed.model';
import { UsageEventBus } from './usage-event-bus.port';

// Each event carries the latest balance, so a client that fell this far behind needs only the newest.
const MAX_BUFFERED_EVENTS = 64;

@ArgsType()
export class UsageChangedArgs {
  @Field(() => ID, {
    nullable: true,
    description: "The user to watch. Admins may omit it to watch every user; an app's own user token watches its own user.",
  })
  @IsOptional()
  @IsCustomerId()
  userId?: string | null;
}

export interface RealtimeContext {
  principal?: Principal;
}

@Resolver()
export class UsageChangedResolver {
  private readonly dropped: () => void;

  constructor(
    @Inject(UsageEventBus) private readonly bus: UsageEventBus,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
  ) {
    this.dropped = () => metrics.realtimeEventsDropped.inc();
  }

  @Subscription(() => UsageChangedEventModel, {
    description: 'A silent usage.changed envelope for every applied adjustment, routed by user.',
    resolve: UsageChangedEventModel.from,
  })
  @Roles('VIEWER')
  @SkipRateLimit()
  async usageChanged(@Args() { userId }: UsageChangedArgs, @Context() { principal }: RealtimeContext): Promise<AsyncIterableIterator<UsageChangedEvent>> {
    return this.metrics.measure('usageChanged', async () => {
      const target = watchedUser(principal, userId ?? null);
      // The queue is the listener itself: a subscriber costs as few objects as possible (10,000 add up).
      const queue = new EventQueue<UsageChangedEvent>(MAX_BUFFERED_EVENTS, this.dropped, this.lifecycle.deliveries);
      queue.release = await this.bus.subscribe(target, queue);
      return queue;
    });
  }
}

/** Admins watch anyone, or everyone; a user watches only themself. */
export function watchedUser(principal: Principal | undefined, requested: string | null): string | null {
  if (!principal) throw Errors.missingBearer();
  if (principal.kind === 'admin') return requested;
  if (requested !== null && requested !== principal.userId) throw Errors.forbidden('a user may only watch their own usage');
  return principal.userId;
}
