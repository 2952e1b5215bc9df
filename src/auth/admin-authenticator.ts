import { Inject, Injectable, Optional } from '@nestjs/common';
import { hash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, missingAdminConfig, type AppConfig } from '../config/app-config';
import { Errors } from '../common/errors';
import { OperatorTokenVerifier } from './operator-token-verifier.port';
import { operatorPrincipal, PREVIOUS_ROOT_PRINCIPAL, ROOT_PRINCIPAL, type AdminPrincipal } from './principal';

export type { AdminPrincipal } from './principal';

/**
 * The admin API's credentials (README "Authentication"): the root secrets, compared in constant
 * time, and operators' tokens, looked up by their hash (through a cache of at most a second).
 */
@Injectable()
export class AdminAuthenticator {
  private readonly current?: Buffer;
  private readonly previous?: Buffer;
  private readonly missing: string[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(OperatorTokenVerifier) private readonly operators?: OperatorTokenVerifier,
  ) {
    this.current = config.adminSecret ? digest(config.adminSecret) : undefined;
    this.previous = config.adminSecretPrevious ? digest(config.adminSecretPrevious) : undefined;
    this.missing = missingAdminConfig(config);
  }

  /**
   * In this order: unconfigured (503), no bearer (401), wrong bearer (403). The root secrets answer
   * synchronously; an operator token may need the database (503 dependency_unavailable when it is down).
   */
  authenticate(authorization: string | undefined): AdminPrincipal | Promise<AdminPrincipal> {
    if (this.missing.length > 0) throw Errors.adminUnconfigured(this.missing);
    const token = bearerToken(authorization);
    if (token === undefined) throw Errors.missingBearer();
    return this.verify(token);
  }

  /**
   * Checks a token already taken out of its header. Both root secrets are always compared, in constant
   * time; anything else that has an operator token's shape is looked up.
   */
  verify(token: string): AdminPrincipal | Promise<AdminPrincipal> {
    const candidate = digest(token);
    const matchesCurrent = this.current !== undefined && timingSafeEqual(candidate, this.current);
    const matchesPrevious = this.previous !== undefined && timingSafeEqual(candidate, this.previous);
    if (matchesCurrent) return ROOT_PRINCIPAL;
    if (matchesPrevious) return PREVIOUS_ROOT_PRINCIPAL;
    if (!this.operators) throw Errors.invalidAdminSecret();
    return this.operators.verify(token).then((operator) => {
      if (!operator) throw Errors.invalidAdminSecret();
      return operatorPrincipal(operator);
    });
  }

  /** Whether an admin secret is set at all (the realtime gateway needs no RevenueCat credentials). */
  get hasSecret(): boolean {
    return this.current !== undefined;
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other scheme or an empty token. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

// Hashing first gives both sides the same length, which timingSafeEqual needs, without leaking the length.
// One-shot: no Hash object per request.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}
