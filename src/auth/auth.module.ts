import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminAuthMiddleware } from './admin-auth.middleware';
import { AdminAuthenticator } from './admin-authenticator';

@Module({
  providers: [AdminAuthenticator, AdminAuthMiddleware, AdminAuthGuard],
  exports: [AdminAuthenticator, AdminAuthMiddleware, AdminAuthGuard],
})
export class AuthModule {}
