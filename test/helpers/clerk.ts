import { createSign, generateKeyPairSync, KeyObject } from 'node:crypto';

/** A Clerk-like instance key pair: the public PEM goes in CLERK_JWT_KEY, the private key signs tokens. */
export class TestClerk {
  readonly publicKeyPem: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.privateKey = privateKey;
  }

  /** A session token for `sub`, valid from a moment ago for `ttlSeconds` (negative: already expired). */
  sessionToken(sub: string, ttlSeconds = 60, extra: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = ttlSeconds > 0 ? now - 5 : now + ttlSeconds - 60;
    return this.sign({ sub, sid: 'sess_test', iss: 'https://clerk.example.test', iat: issuedAt, nbf: issuedAt, exp: now + ttlSeconds, ...extra });
  }

  sign(claims: Record<string, unknown>): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'ins_test' })}.${encode(claims)}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}
