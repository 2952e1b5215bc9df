import { Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ApprovalRequestRepository } from './approval-request.repository';
import { OperatorRepository } from './operator.repository';
import { DEFAULT_TOKEN_CACHE_OPTIONS, OperatorTokenCache } from './token-cache';

/**
 * Operators' persistence and the token cache; needs DatabaseModule and the Clock (both global) registered in
 * the application. Not imported by AppModule yet: authentication and the resolvers wire it in.
 */
@Module({
  providers: [
    OperatorRepository,
    ApprovalRequestRepository,
    { provide: OperatorTokenCache, inject: [Clock], useFactory: (clock: Clock) => new OperatorTokenCache(clock, DEFAULT_TOKEN_CACHE_OPTIONS) },
  ],
  exports: [OperatorRepository, ApprovalRequestRepository, OperatorTokenCache],
})
export class OperatorsModule {}
