import { Global, Module } from '@nestjs/common';
import { ApprovalRequestStore } from '../credits/approval-request-store.port';
import { ApprovalRequestRepository } from './approval-request.repository';

/**
 * Approval requests' persistence; needs DatabaseModule and the Clock (both global) in the application.
 * Global: credits/ checks operators' limits through the ApprovalRequestStore port without importing this
 * folder, which itself applies approved adjustments through credits/.
 */
@Global()
@Module({
  providers: [ApprovalRequestRepository, { provide: ApprovalRequestStore, useExisting: ApprovalRequestRepository }],
  exports: [ApprovalRequestRepository, ApprovalRequestStore],
})
export class ApprovalRequestsModule {}
