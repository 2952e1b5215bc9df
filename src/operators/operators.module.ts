import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { OperatorTokenVerifier } from '../auth/operator-token-verifier.port';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { OperatorsResolver } from './operators.resolver';
import { OperatorsService } from './operators.service';
import { Clock } from '../common/clock';
import { OperatorCredentials } from './operator-credentials';
import { OperatorRepository } from './operator.repository';
import { DEFAULT_TOKEN_CACHE_OPTIONS, OperatorTokenCache } from './token-cache';

/**
 * Operators' persistence and their credentials (token lookups through a cache of at most a second); needs
 * DatabaseModule and the Clock (both global) registered in the application.
 */
// Global: authentication (in auth/) finds the OperatorTokenVerifier without importing this folder.
@Global()
@Module({
  imports: [AuthModule, RateLimitModule],
  providers: [
    OperatorsService,
    OperatorsResolver,
    OperatorRepository,
    { provide: OperatorTokenCache, inject: [Clock], useFactory: (clock: Clock) => new OperatorTokenCache(clock, DEFAULT_TOKEN_CACHE_OPTIONS) },
    OperatorCredentials,
    { provide: OperatorTokenVerifier, useExisting: OperatorCredentials },
  ],
  exports: [OperatorRepository, OperatorCredentials, OperatorTokenVerifier],
})
export class OperatorsModule {}
