/**
 * Random hex from crypto.getRandomValues, which (unlike crypto.randomUUID) also works on a page served
 * over plain HTTP from a host other than localhost.
 */
export function randomToken(bytes = 16): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
