import { Injectable, OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RESOLVER_NAME_METADATA, RESOLVER_TYPE_METADATA } from '@nestjs/graphql';
import { ROLES_METADATA } from './auth/roles.decorator';
import { RATE_LIMIT_METADATA } from './rate-limit/rate-limit.decorator';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

export interface RootFieldMethod {
  /** The field as the schema spells it: `Mutation.adjustCredits`. */
  field: string;
  resolver: Type;
  handler: (...args: never[]) => unknown;
}

/** The root fields a resolver class serves (`@Query`, `@Mutation`, `@Subscription`), by the schema's names. */
export function rootFieldMethods(resolver: Type, scanner = new MetadataScanner()): RootFieldMethod[] {
  const prototype = resolver.prototype as Record<string, RootFieldMethod['handler']>;
  return scanner.getAllMethodNames(prototype).flatMap((method) => {
    const handler = prototype[method];
    const type: unknown = Reflect.getMetadata(RESOLVER_TYPE_METADATA, handler);
    if (typeof type !== 'string' || !ROOT_TYPES.has(type)) return [];
    const name = (Reflect.getMetadata(RESOLVER_NAME_METADATA, handler) as string | undefined) ?? method;
    return [{ field: `${type}.${name}`, resolver, handler }];
  });
}

/** What each root field lacks: a role (`@Roles`), and a limit (`@RateLimit`, or `@SkipRateLimit` for a subscription). */
export function missingPolicies(fields: RootFieldMethod[], reflector = new Reflector()): string[] {
  return fields.flatMap(({ field, resolver, handler }) => {
    const targets = [handler, resolver];
    const missing: string[] = [];
    if (reflector.getAllAndOverride(ROLES_METADATA, targets) === undefined) missing.push(`${field} has no @Roles`);
    if (reflector.getAllAndOverride(RATE_LIMIT_METADATA, targets) === undefined) missing.push(`${field} has no @RateLimit (or @SkipRateLimit)`);
    return missing;
  });
}

/**
 * Refuses to start an app with a root field that has no role or no rate limit, naming the field, rather
 * than answer its first request with an error (RoleGuard would refuse it to everyone; the throttler
 * would have no limit to apply).
 */
@Injectable()
export class RootFieldPolicies implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const resolvers = new Set<Type>();
    // Class providers only: a value or factory provider serves no field.
    for (const { metatype, isNotMetatype } of this.discovery.getProviders()) {
      if (!isNotMetatype && metatype) resolvers.add(metatype as Type);
    }
    const fields = [...resolvers].flatMap((resolver) => rootFieldMethods(resolver, this.scanner));
    const missing = missingPolicies(fields, this.reflector);
    if (missing.length > 0) throw new Error(`every root field needs a role and a rate limit: ${missing.join('; ')}`);
  }
}
