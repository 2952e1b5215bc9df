import { describe, expect, it } from 'vitest';
import { outcomeOf, SubmissionKey } from './submission';

function counter(): () => string {
  let n = 0;
  return () => `k${++n}`;
}

const values = { userId: 'user_1', currency: 'CRD', amount: 50, reason: 'ZD-1 goodwill' };

describe('SubmissionKey', () => {
  it('keeps one key while the answer is outstanding and ignores a second submission (a double click)', () => {
    const submission = new SubmissionKey(counter());
    expect(submission.begin(values)).toBe('k1');
    expect(submission.inFlight).toBe(true);
    expect(submission.begin(values)).toBeUndefined();
    expect(submission.begin({ ...values, amount: 60 })).toBeUndefined();
  });

  it('sends the same key again after a lost answer, so a retry applies once', () => {
    const submission = new SubmissionKey(counter());
    expect(submission.begin(values)).toBe('k1');
    submission.end('open');
    expect(submission.inFlight).toBe(false);
    expect(submission.begin(values)).toBe('k1');
    submission.end('open');
    expect(submission.begin({ ...values })).toBe('k1');
  });

  it('makes a new key after a definite answer', () => {
    const submission = new SubmissionKey(counter());
    expect(submission.begin(values)).toBe('k1');
    submission.end('definite');
    expect(submission.begin(values)).toBe('k2');
  });

  it('makes a new key when the values change after a lost answer', () => {
    const submission = new SubmissionKey(counter());
    submission.begin(values);
    submission.end('open');
    expect(submission.begin({ ...values, reason: 'ZD-1 goodwill, corrected' })).toBe('k2');
  });

  it('makes the key when the form is filled and sends that one', () => {
    const submission = new SubmissionKey(counter());
    expect(submission.peek(values)).toBe('k1');
    expect(submission.peek({ amount: 50, reason: 'ZD-1 goodwill', currency: 'CRD', userId: 'user_1' })).toBe('k1');
    expect(submission.peek({ ...values, amount: 5 })).toBe('k2');
    expect(submission.begin({ ...values, amount: 5 })).toBe('k2');
  });

  it('makes keys of the console- prefix and 32 hex digits by default, different each time', () => {
    const a = new SubmissionKey().peek(values);
    const b = new SubmissionKey().peek(values);
    expect(a).toMatch(/^console-[0-9a-f]{32}$/);
    expect(b).not.toBe(a);
  });
});

describe('outcomeOf', () => {
  it.each([
    'network_error',
    'bad_response',
    'rc_call_failed',
    'dependency_unavailable',
    'idempotency_key_in_progress',
    'internal_error',
    'request_timeout',
    'approval_required',
  ])('%s keeps the key', (code) => expect(outcomeOf(code)).toBe('open'));
  it.each([undefined, 'insufficient_balance', 'invalid_argument', 'forbidden', 'rate_limited', 'idempotency_key_reused'])('%s is definite', (code) =>
    expect(outcomeOf(code)).toBe('definite'),
  );
});
