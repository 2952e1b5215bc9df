import { randomToken } from './random';

/**
 * The idempotency key of one form's submissions. A key is made for the values first submitted and kept
 * while their answer is outstanding, and after an answer that was lost or left the outcome open, so that
 * sending again (a double click, Retry) applies at most once. A definite answer, or different values,
 * start a new key.
 */
export class SubmissionKey {
  private key: string | undefined;
  private values: string | undefined;
  private outstanding = false;

  constructor(private readonly newKey: () => string = () => `console-${randomToken(16)}`) {}

  /** True while a submission waits for its answer: a second one must not be sent. */
  get inFlight(): boolean {
    return this.outstanding;
  }

  /** The key the next submission of these values would carry (made now if there is none for them). */
  peek(values: unknown): string {
    const serialized = stableJson(values);
    if (this.key === undefined || (serialized !== this.values && !this.outstanding)) {
      this.key = this.newKey();
      this.values = serialized;
    }
    return this.key;
  }

  /** Starts a submission; undefined while another is outstanding (the click is ignored). */
  begin(values: unknown): string | undefined {
    if (this.outstanding) return undefined;
    const key = this.peek(values);
    this.outstanding = true;
    return key;
  }

  /**
   * Ends the outstanding submission. `open`: the answer was lost, or says the outcome is not known yet
   * (the same key must be sent again to settle it). `definite`: the next submission gets a new key.
   */
  end(outcome: 'definite' | 'open'): void {
    this.outstanding = false;
    if (outcome === 'definite') {
      this.key = undefined;
      this.values = undefined;
    }
  }
}

/**
 * Codes after which the key is kept: the adjustment may or may not have been applied, or is still being
 * applied; or it waits for approval, where the same key finds the same request instead of filing another.
 */
const OPEN_CODES = new Set([
  'network_error',
  'bad_response',
  'rc_call_failed',
  'dependency_unavailable',
  'idempotency_key_in_progress',
  'internal_error',
  'request_timeout',
  'approval_required',
]);

/** Whether an error code leaves a submission open (resend with the same key) or settles it. */
export function outcomeOf(code: string | undefined): 'definite' | 'open' {
  return code !== undefined && OPEN_CODES.has(code) ? 'open' : 'definite';
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${stableJson(child)}`).join(',')}}`;
}
