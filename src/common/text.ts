// With the u flag a surrogate pair is one code point, so only a lone surrogate matches: the same answer
// as String.prototype.isWellFormed (ES2024), which our ES2022 typings do not declare.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** False for a string holding a lone surrogate, which no UTF-8 encoder (nor encodeURIComponent) accepts. */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}
