// With the u flag a surrogate pair is one code point, so only a lone surrogate matches: the same answer
// as String.prototype.isWellFormed (ES2024), which our ES2022 typings do not declare.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** False for a string holding a lone surrogate, which no UTF-8 encoder (nor encodeURIComponent) accepts. */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** PostgreSQL text cannot hold U+0000: such a value is no stored id (and sending it fails the statement). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}

/**
 * At most `max` characters (code points, so a surrogate pair is never split); display text from an
 * upstream that exceeds its own published limit is cut rather than refused.
 */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = 0;
  let count = 0;
  for (const character of value) {
    if (count === max) break;
    end += character.length;
    count++;
  }
  return value.slice(0, end);
}
