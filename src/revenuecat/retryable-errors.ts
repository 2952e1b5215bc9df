/**
 * The RevenueCat errors worth retrying, by HTTP status, as README "Talking to RevenueCat" lists them.
 * A wire fact shared by both sides of the wire (the client and the emulator), so it imports nothing.
 */
export const RETRYABLE_ERRORS: Readonly<Record<number, string>> = {
  423: 'resource_locked_error',
  429: 'rate_limit_error',
  500: 'server_error',
  503: 'server_error',
};

export function isRetryableStatus(status: number): boolean {
  return Object.hasOwn(RETRYABLE_ERRORS, status);
}
