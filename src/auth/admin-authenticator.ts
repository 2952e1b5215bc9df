import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, missingAdminConfig, type AppConfig } from '../config/app-config';
import { Errors } from '../common/errors';

/** Who made a request. `label` is what audit logs record: never the secret itself. */
export interface AdminPrincipal {
  kind: 'admin';
  label: 'admin' | 'admin:previous';
}

@Injectable()
export class AdminAuthenticator {
  private readonly current?: Buffer;
  private readonly previous?: Buffer;
  private readonly missing: string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.current = config.adminSecret ? digest(config.adminSecret) : undefined;
    this.previous = config.adminSecretPrevious ? digest(config.adminSecretPrevious) : undefined;
    this.missing = missingAdminConfig(config);
  }

  /** DESIGN.md's order: unconfigured (503), no bearer (401), wrong bearer (403). */
  authenticate(authorization: string | undefined): AdminPrincipal {
    if (this.missing.length > 0) throw Errors.adminUnconfigured(this.missing);
    const token = bearerToken(authorization);
    if (token === undefined) throw Errors.missingBearer();
    return this.verify(token);
  }

  /** Checks a token already taken out of its header; both secrets are always compared, in constant time. */
  verify(token: string): AdminPrincipal {
    const candidate = digest(token);
    const matchesCurrent = this.current !== undefined && timingSafeEqual(candidate, this.current);
    const matchesPrevious = this.previous !== undefined && timingSafeEqual(candidate, this.previous);
    if (matchesCurrent) return { kind: 'admin', label: 'admin' };
    if (matchesPrevious) return { kind: 'admin', label: 'admin:previous' };
    throw Errors.invalidAdminSecret();
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
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
