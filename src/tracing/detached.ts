import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/**
 * Runs `work` outside the trace of the request that starts it, for work that outlives the request (a bulk
 * job's runner, a background settlement): otherwise AsyncLocalStorage carries the request's span into every
 * statement and call it makes, for as long as it runs. Without tracing there is no context manager and this
 * only calls `work`.
 */
export function detachedFromRequest<T>(work: () => T): T {
  return context.with(ROOT_CONTEXT, work);
}

const tracer = trace.getTracer('credits-admin-gateway');

/**
 * Runs `work` under a root span of its own named `name` (its statements, commands and RevenueCat calls
 * below it), so a piece of background work has a small trace of its own rather than none. A no-op span
 * when tracing is off.
 */
export function inOwnTrace<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { root: true, attributes }, ROOT_CONTEXT, async (span) => {
    try {
      return await work();
    } catch (error) {
      // The type alone: messages can quote what the work was sent.
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
      throw error;
    } finally {
      span.end();
    }
  });
}
