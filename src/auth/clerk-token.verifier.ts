import { verifyToken } from '@clerk/backend';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export class InvalidSessionToken extends Error {
  constructor(readonly reason: 'token_expired' | 'token_not_active' | 'invalid_token') {
    super(reason);
  }
}

/**
 * Verifies a Clerk session token against the instance's PEM public key, without any network call:
 * signature, expiry and not-before (with Clerk's default clock skew allowance).
 */
@Injectable()
export class ClerkTokenVerifier {
  private readonly jwtKey?: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.jwtKey = config.clerkJwtKey;
  }

  get enabled(): boolean {
    return this.jwtKey !== undefined;
  }

  /** The token's user id (`sub`) and when it expires (`exp`, in epoch milliseconds). */
  async verify(token: string): Promise<{ userId: string; expiresAt: number }> {
    if (!this.jwtKey) throw new InvalidSessionToken('invalid_token');
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = await verifyToken(token, { jwtKey: this.jwtKey });
    } catch (error) {
      const reason = (error as { reason?: unknown }).reason;
      if (reason === 'token-expired') throw new InvalidSessionToken('token_expired');
      if (reason === 'token-not-active-yet') throw new InvalidSessionToken('token_not_active');
      throw new InvalidSessionToken('invalid_token');
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 1500) {
      throw new InvalidSessionToken('invalid_token');
    }
    // A connection lives only as long as its token: one without an expiry is not a session token.
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new InvalidSessionToken('invalid_token');
    return { userId: claims.sub, expiresAt: claims.exp * 1000 };
  }
}
