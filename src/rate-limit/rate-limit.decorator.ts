import { applyDecorators, SetMetadata } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';

/** The configured limits a field may take its budget from (each has its RATE_LIMIT_*_PER_MINUTE variable). */
export type RateLimitName = keyof AppConfig['rateLimits'];

export const RATE_LIMIT_METADATA = 'credits:rate-limit';

/**
 * The field's budget a minute, per caller: the limit named here, as configured. A name rather than a
 * number because the limits come from the environment each app is built with, which `@Throttle`'s
 * values cannot reach; RateLimitModule's throttler reads it.
 */
export const RateLimit = (name: RateLimitName): MethodDecorator & ClassDecorator => SetMetadata(RATE_LIMIT_METADATA, name);

/** A field counted by none of these limits: subscriptions (connection attempts are bounded instead). */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator => applyDecorators(SkipThrottle(), SetMetadata(RATE_LIMIT_METADATA, false));
