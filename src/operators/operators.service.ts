import { Injectable } from '@nestjs/common';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { OperatorCredentials } from './operator-credentials';
import { generateOperatorToken, hashOperatorToken, tokenPrefix } from './operator-token';
import { OperatorRepository, type OperatorPatch, type OperatorRecord } from './operator.repository';
import { canManage, effectiveLimits, type Limits } from './roles';
import { atLeast, type Actor, type OperatorRole } from '../common/actor';
import type { CreateOperatorInput, UpdateOperatorInput } from './dto/operator.inputs';

/**
 * Managing operators (README "Roles"): SUPERVISORs manage VIEWERs and AGENTs, ADMINs anyone.
 * A change of role, limits or revocation takes effect at once on this instance, within a second elsewhere.
 */
@Injectable()
export class OperatorsService {
  constructor(
    private readonly operators: OperatorRepository,
    private readonly credentials: OperatorCredentials,
    private readonly ids: IdGenerator,
  ) {}

  /** A new operator and its token, which exists only in this answer: the database keeps its hash. */
  async create(caller: Actor, input: CreateOperatorInput): Promise<{ operator: OperatorRecord; token: string }> {
    const { actor, limits } = await this.acting(caller);
    requireManage(actor, input.role);
    requireWithinOwnLimits(actor, limits, null, { role: input.role, maxAdjustment: input.maxAdjustment ?? null, dailyLimit: input.dailyLimit ?? null });
    const token = generateOperatorToken();
    const operator = await this.operators.create({
      id: `op_${this.ids.uuid()}`,
      name: input.name,
      role: input.role,
      maxAdjustment: input.maxAdjustment ?? null,
      dailyLimit: input.dailyLimit ?? null,
      tokenHash: hashOperatorToken(token),
      tokenPrefix: tokenPrefix(token),
      createdBy: actor,
    });
    return { operator, token };
  }

  /** Omitted (or null) fields stay; `clearLimits` removes both limits first, then any given limit is set. */
  async update(caller: Actor, input: UpdateOperatorInput): Promise<OperatorRecord> {
    const { actor, limits } = await this.acting(caller);
    const target = await this.live(input.id);
    requireManage(actor, target.role);
    const patch: OperatorPatch = {};
    if (input.role != null) {
      requireManage(actor, input.role);
      patch.role = input.role;
    }
    if (input.clearLimits === true) {
      patch.maxAdjustment = null;
      patch.dailyLimit = null;
    }
    if (input.maxAdjustment != null) patch.maxAdjustment = input.maxAdjustment;
    if (input.dailyLimit != null) patch.dailyLimit = input.dailyLimit;
    requireWithinOwnLimits(actor, limits, target, { ...target, ...patch });
    // Written only if the operator's role is still the one checked above (a concurrent promotion would
    // otherwise let a SUPERVISOR change a SUPERVISOR).
    const updated = await this.operators.update(target.id, patch, target.role);
    if (!updated) throw Errors.invalidState('the operator was revoked or changed meanwhile; read it again');
    this.credentials.changed(updated);
    return updated;
  }

  /** Revokes at once; revoking a revoked operator answers it unchanged. */
  async revoke(caller: Actor, id: string): Promise<OperatorRecord> {
    const { actor } = await this.acting(caller);
    const target = await this.operators.findById(id);
    if (!target) throw Errors.notFound('id');
    requireManage(actor, target.role);
    const result = await this.operators.revoke(id, target.role);
    if (!result) throw Errors.notFound('id');
    if (!result.revokedNow && result.operator.revokedAt === null) throw Errors.invalidState('the operator changed meanwhile; read it again');
    if (result.revokedNow) this.credentials.changed(result.operator);
    return result.operator;
  }

  list(includeRevoked: boolean): Promise<OperatorRecord[]> {
    return this.operators.list(includeRevoked);
  }

  /**
   * The acting operator as it is now: revoked is invalid_admin_secret, and its role is the stored one. The
   * token's answer may be a second old on another instance, and a credential revoked in that second must
   * not issue new ones (nor a demoted one act on its old role).
   */
  private async acting(actor: Actor): Promise<{ actor: Actor; limits: Limits }> {
    if (actor.operatorId === null) return { actor, limits: NO_LIMITS };
    const operator = await this.operators.findById(actor.operatorId);
    if (!operator || operator.revokedAt !== null) throw Errors.invalidAdminSecret();
    return { actor: { ...actor, role: operator.role }, limits: effectiveLimits(operator) };
  }

  private async live(id: string): Promise<OperatorRecord> {
    const operator = await this.operators.findById(id);
    if (!operator) throw Errors.notFound('id');
    if (operator.revokedAt !== null) throw Errors.invalidState('the operator is revoked; create a new one');
    return operator;
  }
}

const NO_LIMITS: Limits = { maxAdjustment: null, dailyLimit: null };

/**
 * 403 forbidden (requiredRole ADMIN) when a SUPERVISOR would give an operator that can adjust a limit above
 * its own (or none where it has one): that operator's token, which its creator holds, would let one person
 * apply alone what their own limits send to a second person. A limit left as it was is not checked, so a
 * SUPERVISOR may still lower one limit of an AGENT an ADMIN made. An unlimited SUPERVISOR gives any.
 */
function requireWithinOwnLimits(actor: Actor, own: Limits, before: (Limits & { role: OperatorRole }) | null, after: Limits & { role: OperatorRole }): void {
  if (actor.role === 'ADMIN' || !atLeast(after.role, 'AGENT')) return;
  for (const limit of ['maxAdjustment', 'dailyLimit'] as const) {
    const bound = own[limit];
    if (bound === null) continue;
    const unchanged = before !== null && atLeast(before.role, 'AGENT') && before[limit] === after[limit];
    const value = after[limit];
    if (!unchanged && (value === null || value > bound)) {
      throw Errors.roleRequired('ADMIN', `only an ADMIN may give an operator a ${limit} above your own (${bound})`);
    }
  }
}

/** 403 forbidden unless `actor` may manage an operator of `role`: only ADMIN may manage SUPERVISORs and ADMINs. */
function requireManage(actor: Actor, role: OperatorRecord['role']): void {
  if (!canManage(actor.role, role)) throw Errors.roleRequired('ADMIN', `only an ADMIN may manage ${role} operators`);
}
