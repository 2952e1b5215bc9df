import { Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { buildSchema, GraphQLObjectType } from 'graphql';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Roles } from './auth/roles.decorator';
import { RateLimit, SkipRateLimit } from './rate-limit/rate-limit.decorator';
import { missingPolicies, RootFieldPolicies, rootFieldMethods } from './root-field-policies';

const schema = buildSchema(readFileSync(join(__dirname, '../schema.gql'), 'utf8'));

/** Every class exported by a `*.resolver.ts` under src/. */
function resolverClasses(): Type[] {
  const files = (readdirSync(__dirname, { recursive: true }) as string[]).filter((file) => file.endsWith('.resolver.ts'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- every resolver file, found at run time
  return files.flatMap((file) => Object.values(require(join(__dirname, file)) as Record<string, unknown>).filter((value): value is Type => typeof value === 'function'));
}

function rootFields(type: GraphQLObjectType | null | undefined): string[] {
  return type ? Object.keys(type.getFields()).map((field) => `${type.name}.${field}`) : [];
}

@Resolver()
class UnguardedResolver {
  @Roles('VIEWER')
  @RateLimit('reads')
  @Query(() => String)
  fine(): string {
    return '';
  }

  @Roles('ADMIN')
  @Mutation(() => String, { name: 'unlimited' })
  renamedMethod(): string {
    return '';
  }

  @RateLimit('mutations')
  @Mutation(() => String)
  roleless(): string {
    return '';
  }

  @Roles('VIEWER')
  @Subscription(() => String)
  unmarked(): string {
    return '';
  }

  @Roles('VIEWER')
  @SkipRateLimit()
  @Subscription(() => String)
  marked(): string {
    return '';
  }
}

describe('root field policies', () => {
  it('gives every query, mutation and subscription field of schema.gql a role and a rate limit', () => {
    const methods = new Map(
      resolverClasses()
        .flatMap((resolver) => rootFieldMethods(resolver))
        .map((method) => [method.field, method]),
    );
    const fields = [...rootFields(schema.getQueryType()), ...rootFields(schema.getMutationType()), ...rootFields(schema.getSubscriptionType())];
    expect(fields.length).toBeGreaterThan(20);
    expect(fields.filter((field) => !methods.has(field))).toEqual([]);
    expect(missingPolicies(fields.map((field) => methods.get(field)!))).toEqual([]);
  });

  it('names each field that lacks a role or a limit, by its schema name', () => {
    expect(missingPolicies(rootFieldMethods(UnguardedResolver))).toEqual([
      'Mutation.unlimited has no @RateLimit (or @SkipRateLimit)',
      'Mutation.roleless has no @Roles',
      'Subscription.unmarked has no @RateLimit (or @SkipRateLimit)',
    ]);
  });

  it('fails start-up, naming the field', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], providers: [UnguardedResolver, RootFieldPolicies] }).compile();
    await expect(moduleRef.init()).rejects.toThrow(
      'every root field needs a role and a rate limit: Mutation.unlimited has no @RateLimit (or @SkipRateLimit); Mutation.roleless has no @Roles; ' +
        'Subscription.unmarked has no @RateLimit (or @SkipRateLimit)',
    );
  });
});
