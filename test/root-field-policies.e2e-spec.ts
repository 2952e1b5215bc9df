import { Module } from '@nestjs/common';
import { Mutation, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { AppModule } from '../src/app.module';
import { Roles } from '../src/auth/roles.decorator';
import { APP_OPTIONS, configureApp, httpAdapter } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { ADMIN_SECRET } from './helpers/test-app';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';

/** A field added with its role but without a rate limit. */
@Resolver()
class ForgottenResolver {
  @Roles('ADMIN')
  @Mutation(() => String, { nullable: true })
  forgottenField(): string | null {
    return null;
  }
}

@Module({ providers: [ForgottenResolver] })
class ForgottenModule {}

describeWithPostgres('root field policies at start-up', () => {
  it('refuses to start the app with a root field that has no rate limit, naming the field', async () => {
    const schema = await createTestSchema('field_policies');
    const config = loadConfig({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: 'sk_test_unused',
      REVENUECAT_PROJECT_ID: 'proj_unused',
      REVENUECAT_API_URL: 'http://127.0.0.1:9/v2',
      LOG_LEVEL: 'silent',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema.name,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config), ForgottenModule] }).compile();
    const app = configureApp(moduleRef.createNestApplication(httpAdapter(config), { ...APP_OPTIONS, logger: false }));
    try {
      await expect(app.init()).rejects.toThrow('every root field needs a role and a rate limit: Mutation.forgottenField has no @RateLimit (or @SkipRateLimit)');
    } finally {
      await app.close().catch(() => undefined);
      await schema.drop();
    }
  });
});
