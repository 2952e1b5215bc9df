import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminAuthMiddleware } from './admin-auth.middleware';
import { AdminAuthenticator } from './admin-authenticator';
import { ClerkTokenVerifier } from './clerk-token.verifier';
import { ConnectionAuthenticator } from './connection-authenticator';

@Module({
  providers: [AdminAuthenticator, AdminAuthMiddleware, AdminAuthGuard, ClerkTokenVerifier, ConnectionAuthenticator],
  exports: [AdminAuthenticator, AdminAuthMiddleware, AdminAuthGuard, ConnectionAuthenticator],
})
export class AuthModule {}
