import { isRetryableStatus } from '../src/revenuecat/retryable-errors';
import { DEFAULT_BACKOFF_MS, EmulatorAnswer, errorAnswer, errorTypeForStatus, PendingAnswer } from './emulator-errors';
import { EMULATOR_ENDPOINTS } from './emulator-routes';
import { EmulatorEndpoint, EmulatorFault } from './emulator.types';

/** setTimeout fires at once for anything longer, which would turn a "hang forever" fault into no delay. */
const MAX_TIMER_MS = 2_147_483_647;

interface ActiveFault {
  fault: EmulatorFault;
  remaining: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: (completed: boolean) => void;
}

/** Faults tests inject (status, latency, dropped connection, raw body), matched by endpoint and customer. */
export class FaultInjector {
  private faults: ActiveFault[] = [];
  private readonly pendingDelays = new Set<PendingDelay>();

  inject(fault: EmulatorFault): void {
    if (fault === null || typeof fault !== 'object') throw new Error('A fault must be an object');
    if (fault.endpoint !== undefined && !EMULATOR_ENDPOINTS.includes(fault.endpoint)) {
      throw new Error(`Unknown endpoint ${String(fault.endpoint)}; expected one of ${EMULATOR_ENDPOINTS.join(', ')}`);
    }
    const count = fault.count ?? 1;
    if (count !== Infinity && !(Number.isInteger(count) && count >= 1)) {
      throw new Error('Fault count must be a positive integer or Infinity');
    }
    if (fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)) {
      throw new Error('Fault status must be an HTTP status code');
    }
    if (fault.latencyMs !== undefined && !(typeof fault.latencyMs === 'number' && fault.latencyMs >= 0)) {
      throw new Error('Fault latencyMs must be a non-negative number');
    }
    if (fault.rawBody !== undefined && typeof fault.rawBody !== 'string') {
      throw new Error('Fault rawBody must be a string');
    }
    this.faults.push({ fault: { ...fault }, remaining: count });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault matching this request, used up by one. */
  take(endpoint: EmulatorEndpoint, customerId: string | undefined): EmulatorFault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const active = this.faults[i];
      if (active.fault.endpoint !== undefined && active.fault.endpoint !== endpoint) continue;
      if (active.fault.customerId !== undefined && active.fault.customerId !== customerId) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.faults.splice(i, 1);
      return active.fault;
    }
    return undefined;
  }

  /** Answers `pending` as `fault` says: late, replaced by an error or raw body, or dropped (`drop`). */
  async apply(fault: EmulatorFault | undefined, pending: PendingAnswer, respond: (answer: EmulatorAnswer) => void, drop: () => void): Promise<void> {
    if (!fault) {
      respond(pending.answer());
      return;
    }
    const applied = fault.applyFirst ? pending.answer() : undefined;
    if (fault.latencyMs) {
      // A cancelled wait means reset() or close(): the state it would touch is gone, so just drop the request.
      if (!(await this.delay(fault.latencyMs))) {
        drop();
        return;
      }
    }
    if (fault.destroySocket) {
      if (!applied) pending.abandon();
      drop();
      return;
    }
    const injected = injectedAnswer(fault);
    if (injected) {
      if (!applied) pending.abandon();
      respond(injected);
      return;
    }
    respond(applied ?? pending.answer());
  }

  /** Ends every pending latency at once; the requests waiting on it are dropped. */
  cancelDelays(): void {
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pendingDelays.clear();
  }

  private delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const pending: PendingDelay = {
        resolve,
        timer: setTimeout(
          () => {
            this.pendingDelays.delete(pending);
            resolve(true);
          },
          Math.min(ms, MAX_TIMER_MS),
        ),
      };
      this.pendingDelays.add(pending);
    });
  }
}

function injectedAnswer(fault: EmulatorFault): EmulatorAnswer | undefined {
  if (fault.rawBody !== undefined) return { status: fault.status ?? 200, body: fault.rawBody };
  if (fault.status === undefined) return undefined;
  const status = fault.status;
  const type = fault.type ?? errorTypeForStatus(status);
  const retryable = fault.retryable ?? isRetryableStatus(status);
  const backoffMs = fault.backoffMs ?? DEFAULT_BACKOFF_MS;
  const retryAfter = fault.retryAfterSeconds ?? (status === 429 ? Math.max(1, Math.ceil(backoffMs / 1000)) : undefined);
  return errorAnswer(status, type, fault.message ?? `Injected ${type} (emulator fault)`, {
    retryable,
    backoffMs,
    headers: retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) },
  });
}
