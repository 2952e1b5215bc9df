import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminAuthenticator } from './admin-authenticator';
import { ClerkTokenVerifier } from './clerk-token.verifier';
import { ConnectionAuthenticator } from './connection-authenticator';

@Module({
  providers: [AdminAuthenticator, AdminAuthGuard, ClerkTokenVerifier, ConnectionAuthenticator],
  exports: [AdminAuthenticator, AdminAuthGuard, ConnectionAuthenticator],
})
export class AuthModule {}
