import { Errors } from '../common/errors';

const MAX_ON_BEHALF_OF = 200;
// Printable: no control character (C0, DEL, C1) and no invisible format character (bidi overrides, zero widths).
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/u;
const NON_ASCII = /[^\u0000-\u007f]/;
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;
// Fatal: bytes that are not UTF-8 are refused, never replaced with U+FFFD. A leading BOM is kept (and
// then refused as a format character) rather than silently dropped.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The header as its sender wrote it. Node hands header values over with each byte as one character
 * (Latin-1); the header is UTF-8, so its bytes are decoded as such. Null: the bytes are not UTF-8.
 */
function decodeUtf8Header(value: string): string | null {
  if (!NON_ASCII.test(value)) return value;
  // Node's parser never gives more than a byte per character; anything else did not come off the wire.
  if (BEYOND_LATIN1.test(value)) return null;
  try {
    return UTF8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return null;
  }
}

/**
 * `X-On-Behalf-Of`: the person a trusted internal tool acts for, recorded beside the credential in the
 * journal. Absent: null. Present, it must be UTF-8, printable and at most 200 characters (code
 * points of the decoded text), otherwise `invalid_argument` naming the header.
 */
export function onBehalfOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) throw Errors.invalidArgument('X-On-Behalf-Of', 'must be sent in one header');
  // Decoded before trimming: a UTF-8 continuation byte (0xA0, 0x85) reads as white space in Latin-1.
  const decoded = decodeUtf8Header(header);
  if (decoded === null) throw Errors.invalidArgument('X-On-Behalf-Of', 'must be UTF-8 text');
  const value = decoded.trim();
  if (value.length === 0 || [...value].length > MAX_ON_BEHALF_OF || UNPRINTABLE.test(value)) {
    throw Errors.invalidArgument('X-On-Behalf-Of', `must be 1 to ${MAX_ON_BEHALF_OF} printable characters`);
  }
  return value;
}
