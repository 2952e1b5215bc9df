import { EmulatorAnswer, errorAnswer } from './emulator-errors';
import { RateLimitDomain } from './emulator.types';

export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitDomain, number>> = {
  project_configuration: 60,
  customer_information: 480,
  virtual_currencies_create_transaction: 480,
};

const WINDOW_MS = 60_000;

/** Reported instead of Infinity so clients that parse the header as an integer keep working. */
const UNLIMITED_HEADER_VALUE = '2147483647';

export interface RateLimitUsage {
  allowed: boolean;
  usage: number;
  limit: number;
  retryAfterSeconds: number;
}

/** Fixed one-minute windows per domain, as RevenueCat counts them. */
export class FixedWindowRateLimiter {
  private readonly windows = new Map<RateLimitDomain, { window: number; count: number }>();

  constructor(
    private readonly limits: Readonly<Record<RateLimitDomain, number>>,
    private readonly now: () => number,
  ) {}

  hit(domain: RateLimitDomain): RateLimitUsage {
    return this.measure(domain, 1);
  }

  peek(domain: RateLimitDomain): RateLimitUsage {
    return this.measure(domain, 0);
  }

  clear(): void {
    this.windows.clear();
  }

  static headers(usage: RateLimitUsage): Record<string, string> {
    return {
      'RevenueCat-Rate-Limit-Current-Usage': String(usage.usage),
      'RevenueCat-Rate-Limit-Current-Limit': Number.isFinite(usage.limit) ? String(usage.limit) : UNLIMITED_HEADER_VALUE,
    };
  }

  private measure(domain: RateLimitDomain, increment: number): RateLimitUsage {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    let counter = this.windows.get(domain);
    if (!counter || counter.window !== window) {
      counter = { window, count: 0 };
      this.windows.set(domain, counter);
    }
    counter.count += increment;
    const limit = this.limits[domain];
    const msLeft = (window + 1) * WINDOW_MS - now;
    return {
      allowed: counter.count <= limit,
      usage: counter.count,
      limit,
      retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
    };
  }
}

export function rateLimitedAnswer(usage: RateLimitUsage): EmulatorAnswer {
  return errorAnswer(429, 'rate_limit_error', `Rate limit of ${usage.limit} requests per minute exceeded`, {
    retryable: true,
    backoffMs: usage.retryAfterSeconds * 1000,
    headers: { 'Retry-After': String(usage.retryAfterSeconds) },
  });
}

/** RevenueCat's limits with the caller's overrides (Infinity lifts one). */
export function resolveRateLimits(overrides: Partial<Record<RateLimitDomain, number>> | undefined): Record<RateLimitDomain, number> {
  const limits = { ...DEFAULT_RATE_LIMITS };
  for (const [domain, limit] of Object.entries(overrides ?? {}) as Array<[RateLimitDomain, number | undefined]>) {
    if (limit === undefined) continue;
    if (!(domain in limits)) throw new Error(`Unknown rate-limit domain ${domain}`);
    if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
      throw new Error(`Rate limit for ${domain} must be a non-negative number or Infinity`);
    }
    limits[domain] = limit;
  }
  return limits;
}
