import { timingSafeEqual } from 'node:crypto';
import { EmulatorAnswer, errorAnswer } from './emulator-errors';

export type BearerCheck = 'ok' | 'missing' | 'invalid';

/** The API and the control API take the same secret key, compared in constant time. */
export function checkBearer(header: string | undefined, expected: Buffer): BearerCheck {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return 'missing';
  const given = Buffer.from(match[1]);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}

export function authErrorAnswer(check: 'missing' | 'invalid'): EmulatorAnswer {
  return errorAnswer(401, 'authentication_error', check === 'missing' ? 'Missing API key: send Authorization: Bearer <secret key>' : 'Invalid API key');
}
