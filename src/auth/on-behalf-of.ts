import { Errors } from '../common/errors';
import { isWellFormedText } from '../common/text';

const MAX_ON_BEHALF_OF = 200;
// Printable: no control character (C0, DEL, C1) and no invisible format character (bidi overrides, zero widths).
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/u;

/**
 * `X-On-Behalf-Of`: the person a trusted internal tool acts for, recorded beside the credential (DESIGN
 * "The journal"). Absent: null. Present, it must be printable and at most 200 characters, otherwise
 * `invalid_argument` naming the header.
 */
export function onBehalfOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) throw Errors.invalidArgument('X-On-Behalf-Of', 'must be sent in one header');
  const value = header.trim();
  if (value.length === 0 || value.length > MAX_ON_BEHALF_OF || !isWellFormedText(value) || UNPRINTABLE.test(value)) {
    throw Errors.invalidArgument('X-On-Behalf-Of', `must be 1 to ${MAX_ON_BEHALF_OF} printable characters`);
  }
  return value;
}
