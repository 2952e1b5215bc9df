import { describe, expect, it } from 'vitest';
import { actorText, atLeast, formatAmount, timeLeft } from './format';

describe('format', () => {
  it('orders roles', () => {
    expect(atLeast('ADMIN', 'SUPERVISOR')).toBe(true);
    expect(atLeast('AGENT', 'AGENT')).toBe(true);
    expect(atLeast('VIEWER', 'AGENT')).toBe(false);
    expect(atLeast('SUPERVISOR', 'ADMIN')).toBe(false);
  });

  it('signs amounts', () => {
    expect(formatAmount(1500, true)).toBe('+1,500');
    expect(formatAmount(-20, true)).toBe('−20');
    expect(formatAmount(250)).toBe('250');
  });

  it('tells the time a request has left', () => {
    const now = Date.parse('2026-11-01T10:00:00Z');
    expect(timeLeft('2026-11-02T09:30:00Z', now)).toBe('23 h 30 min left');
    expect(timeLeft('2026-11-01T10:05:30Z', now)).toBe('5 min left');
    expect(timeLeft('2026-11-01T10:00:20Z', now)).toBe('under a minute left');
    expect(timeLeft('2026-11-01T09:59:59Z', now)).toBe('expired');
  });

  it('names the actor and whom it acted for', () => {
    expect(actorText({ name: 'admin', onBehalfOf: null })).toBe('admin');
    expect(actorText({ name: 'Support tool', onBehalfOf: 'jane@x' })).toBe('Support tool (for jane@x)');
  });
});
