import { createHash, createHmac } from 'node:crypto';
import { generateOperatorToken, hashOperatorToken, isOperatorToken, tokenHashesEqual, tokenPrefix } from './operator-token';

describe('operator tokens', () => {
  it('are cgo_ and 43 base64url characters (32 random bytes), different every time', () => {
    const tokens = Array.from({ length: 50 }, () => generateOperatorToken());
    for (const token of tokens) {
      expect(token).toMatch(/^cgo_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
      expect(isOperatorToken(token)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(50);
  });

  it('are recognised by prefix and shape only', () => {
    const token = generateOperatorToken();
    expect(isOperatorToken(token.slice(0, -1))).toBe(false);
    expect(isOperatorToken(`${token}A`)).toBe(false);
    expect(isOperatorToken(`cgx_${token.slice(4)}`)).toBe(false);
    expect(isOperatorToken(`cgo_${'+'.repeat(43)}`)).toBe(false);
    expect(isOperatorToken('admin-secret')).toBe(false);
    expect(isOperatorToken('')).toBe(false);
  });

  it('hash to SHA-256 hex, or HMAC-SHA256 with a key; never to the token itself', () => {
    const token = 'cgo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(hashOperatorToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashOperatorToken(token, '')).toBe(hashOperatorToken(token));
    expect(hashOperatorToken(token, 'pepper')).toBe(createHmac('sha256', 'pepper').update(token).digest('hex'));
    expect(hashOperatorToken(token, 'pepper')).not.toBe(hashOperatorToken(token));
    expect(hashOperatorToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOperatorToken(token)).not.toContain(token.slice(4, 12));
  });

  it('show their first 8 characters as prefix', () => {
    expect(tokenPrefix('cgo_abcdEFGH')).toBe('cgo_abcd');
    expect(tokenPrefix(generateOperatorToken())).toMatch(/^cgo_[A-Za-z0-9_-]{4}$/);
  });

  it('compare hashes exactly', () => {
    const hash = hashOperatorToken(generateOperatorToken());
    expect(tokenHashesEqual(hash, `${hash}`)).toBe(true);
    const flipped = hash.slice(0, -1) + (hash.endsWith('0') ? '1' : '0');
    expect(tokenHashesEqual(hash, flipped)).toBe(false);
    expect(tokenHashesEqual(hash, hash.slice(0, -1))).toBe(false);
  });
});
