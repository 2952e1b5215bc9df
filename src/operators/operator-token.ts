import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every operator token starts with this, so a person (or a secret scanner) recognises one. */
export const OPERATOR_TOKEN_PREFIX = 'cgo_';
/** 256 bits of randomness: guessing is hopeless, so a fast hash is the right storage (no password hash). */
const TOKEN_BYTES = 32;
/** `cgo_` and 32 bytes in base64url without padding (43 characters). */
const OPERATOR_TOKEN = /^cgo_[A-Za-z0-9_-]{43}$/;
/** How many leading characters are stored and shown as `tokenPrefix` (README "The first operators"). */
export const TOKEN_PREFIX_LENGTH = 8;

/** A new operator token: shown to its creator once, then only its hash and prefix are kept. */
export function generateOperatorToken(): string {
  return OPERATOR_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * Whether a bearer token has the shape of an operator token. Authentication can skip the database for
 * anything else (the admin secret, garbage), and a root secret that happened to start with `cgo_` still
 * works, since this only decides where to look, not whether the token is valid.
 */
export function isOperatorToken(token: string): boolean {
  return OPERATOR_TOKEN.test(token);
}

/**
 * SHA-256 of the token in hex, or HMAC-SHA256 with `key`, a server-side pepper so that a leaked table alone
 * cannot be checked against a leaked token; the key must never change, as every stored hash depends on it.
 * Looking the hash up by equality leaks nothing through timing: an attacker controls the token, not its
 * hash, so how many leading hash characters matched says nothing about a valid token.
 */
export function hashOperatorToken(token: string, key?: string): string {
  return key === undefined || key === '' ? createHash('sha256').update(token, 'utf8').digest('hex') : createHmac('sha256', key).update(token, 'utf8').digest('hex');
}

/** The first 8 characters (`cgo_` and 4 more): enough to tell tokens apart in a list, useless to guess one. */
export function tokenPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX_LENGTH);
}

/** Constant-time equality of two hex hashes (for a caller that holds a hash rather than looking it up). */
export function tokenHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A freshly issued credential: `token` goes to its creator once; `tokenHash` and `tokenPrefix` are stored. */
export interface IssuedToken {
  token: string;
  tokenHash: string;
  tokenPrefix: string;
}

export function issueOperatorToken(key?: string): IssuedToken {
  const token = generateOperatorToken();
  return { token, tokenHash: hashOperatorToken(token, key), tokenPrefix: tokenPrefix(token) };
}
