import { atLeast, OPERATOR_ROLES, type OperatorRole } from '../common/actor';
import { approvalRefusal, canChangeRole, canManage, effectiveLimits, isOperatorRole, withinMaxAdjustment } from './roles';

const table = (fn: (a: OperatorRole, b: OperatorRole) => boolean) => Object.fromEntries(OPERATOR_ROLES.map((a) => [a, OPERATOR_ROLES.filter((b) => fn(a, b))]));

describe('operator roles', () => {
  it('are ordered VIEWER < AGENT < SUPERVISOR < ADMIN, each including the ones before', () => {
    expect(OPERATOR_ROLES).toEqual(['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN']);
    expect(table(atLeast)).toEqual({
      VIEWER: ['VIEWER'],
      AGENT: ['VIEWER', 'AGENT'],
      SUPERVISOR: ['VIEWER', 'AGENT', 'SUPERVISOR'],
      ADMIN: ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'],
    });
  });

  it('let a SUPERVISOR manage VIEWERs and AGENTs, an ADMIN anyone, nobody else anyone', () => {
    expect(table(canManage)).toEqual({
      VIEWER: [],
      AGENT: [],
      SUPERVISOR: ['VIEWER', 'AGENT'],
      ADMIN: ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'],
    });
  });

  it('let a role change only between roles the actor manages', () => {
    expect(canChangeRole('SUPERVISOR', 'VIEWER', 'AGENT')).toBe(true);
    expect(canChangeRole('SUPERVISOR', 'AGENT', 'VIEWER')).toBe(true);
    expect(canChangeRole('SUPERVISOR', 'AGENT', 'SUPERVISOR')).toBe(false);
    expect(canChangeRole('SUPERVISOR', 'SUPERVISOR', 'AGENT')).toBe(false);
    expect(canChangeRole('SUPERVISOR', 'ADMIN', 'VIEWER')).toBe(false);
    expect(canChangeRole('ADMIN', 'VIEWER', 'ADMIN')).toBe(true);
    expect(canChangeRole('AGENT', 'VIEWER', 'VIEWER')).toBe(false);
  });

  it('recognise role names exactly', () => {
    expect(OPERATOR_ROLES.every(isOperatorRole)).toBe(true);
    expect(['admin', 'OWNER', '', null, 3].some(isOperatorRole)).toBe(false);
  });

  it('give ADMIN no limits whatever is stored, others their own', () => {
    expect(effectiveLimits({ role: 'ADMIN', maxAdjustment: 5, dailyLimit: 10 })).toEqual({ maxAdjustment: null, dailyLimit: null });
    expect(effectiveLimits({ role: 'SUPERVISOR', maxAdjustment: 5, dailyLimit: null })).toEqual({ maxAdjustment: 5, dailyLimit: null });
    expect(withinMaxAdjustment({ maxAdjustment: 100, dailyLimit: null }, -100)).toBe(true);
    expect(withinMaxAdjustment({ maxAdjustment: 100, dailyLimit: null }, -101)).toBe(false);
    expect(withinMaxAdjustment({ maxAdjustment: null, dailyLimit: 1 }, 2_000_000_000)).toBe(true);
  });

  describe('approvals', () => {
    const request = { requestedByOperatorId: 'op-agent', amount: -500 };
    const supervisor = { operatorId: 'op-sup', role: 'SUPERVISOR' as const, maxAdjustment: 500, dailyLimit: null };

    it('allow a SUPERVISOR other than the requester whose maxAdjustment covers |amount|', () => {
      expect(approvalRefusal(supervisor, request)).toBeNull();
    });

    it('refuse a role below SUPERVISOR', () => {
      expect(approvalRefusal({ ...supervisor, role: 'AGENT', maxAdjustment: null }, request)).toBe('role');
      expect(approvalRefusal({ ...supervisor, role: 'VIEWER' }, request, 'reject')).toBe('role');
    });

    it('refuse the requester itself, approving or rejecting', () => {
      const own = { ...request, requestedByOperatorId: 'op-sup' };
      expect(approvalRefusal(supervisor, own)).toBe('own_request');
      expect(approvalRefusal(supervisor, own, 'reject')).toBe('own_request');
    });

    it('refuse an approver whose own maxAdjustment is below |amount|, but let it reject', () => {
      const small = { ...supervisor, maxAdjustment: 499 };
      expect(approvalRefusal(small, request)).toBe('over_own_limit');
      expect(approvalRefusal(small, request, 'reject')).toBeNull();
    });

    it('let an ADMIN operator (no limits) and the root secret approve anything', () => {
      expect(approvalRefusal({ operatorId: 'op-admin', role: 'ADMIN', maxAdjustment: 1, dailyLimit: 1 }, request)).toBeNull();
      expect(approvalRefusal({ operatorId: null, role: 'ADMIN', maxAdjustment: null, dailyLimit: null }, request)).toBeNull();
    });
  });
});
