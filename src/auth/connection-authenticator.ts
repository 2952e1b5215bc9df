import { Injectable } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { AdminAuthenticator, bearerToken } from './admin-authenticator';
import { ClerkTokenVerifier, InvalidSessionToken } from './clerk-token.verifier';
import type { Principal } from './principal';

/**
 * graphql-ws close codes of ours: a missing or invalid credential at connection time (4401), a session
 * token that expired while connected (4403). Either way: get a fresh token before reconnecting.
 */
export const REFUSED = { unauthorized: 4401, tryAgainLater: 1013 } as const;
export const TOKEN_EXPIRED = { code: 4403, reason: 'token expired' } as const;
/** An operator token revoked while connected (README "Rotating and revoking"). */
export const TOKEN_REVOKED = { code: 4403, reason: 'token revoked' } as const;

export class ConnectionRefused extends Error {
  constructor(
    readonly code: (typeof REFUSED)[keyof typeof REFUSED],
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Authenticates a graphql-ws connection from `connectionParams.authorization` ("Bearer ..."). */
@Injectable()
export class ConnectionAuthenticator {
  constructor(
    private readonly admin: AdminAuthenticator,
    private readonly clerk: ClerkTokenVerifier,
  ) {}

  async authenticate(connectionParams: Readonly<Record<string, unknown>> | undefined): Promise<Principal> {
    const header = connectionParams?.authorization ?? connectionParams?.Authorization;
    const token = bearerToken(typeof header === 'string' ? header : undefined);
    if (token === undefined) throw new ConnectionRefused(REFUSED.unauthorized, 'missing_bearer');
    if (this.admin.hasSecret) {
      try {
        return await this.admin.verify(token);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        // An operator token that could not be checked: not refused for good, the client may retry.
        if (error.code === 'dependency_unavailable') throw new ConnectionRefused(REFUSED.tryAgainLater, 'dependency_unavailable');
      }
    }
    if (!this.clerk.enabled) throw new ConnectionRefused(REFUSED.unauthorized, 'invalid_token');
    try {
      const { userId, expiresAt } = await this.clerk.verify(token);
      return { kind: 'user', label: 'clerk', userId, expiresAt };
    } catch (error) {
      if (error instanceof InvalidSessionToken) throw new ConnectionRefused(REFUSED.unauthorized, error.reason);
      throw error;
    }
  }
}
