import { Module } from '@nestjs/common';
import { AdminAuthenticator } from './admin-authenticator';
import { ClerkTokenVerifier } from './clerk-token.verifier';
import { ConnectionAuthenticator } from './connection-authenticator';

@Module({
  providers: [AdminAuthenticator, ClerkTokenVerifier, ConnectionAuthenticator],
  exports: [AdminAuthenticator, ConnectionAuthenticator],
})
export class AuthModule {}
