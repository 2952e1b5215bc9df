import { INestApplication, Logger } from '@nestjs/common';
import { Lifecycle } from './lifecycle/lifecycle';
import { RealtimeServer } from './realtime/realtime.server';
import { flushTracing } from './tracing';

/** How long the last spans may take to reach the collector once everything else is closed. */
const TRACE_FLUSH_MS = 2_000;

/**
 * SIGTERM (and SIGINT): stop taking new work (readiness fails, new GraphQL requests get 503), let the
 * adjustments in flight finish and their usage.changed events reach this instance's subscribers, all
 * within `graceMs`, tell subscribers to reconnect elsewhere (1001), then close everything (HTTP
 * server, Redis) and exit 0. Not Nest's enableShutdownHooks: that re-raises the signal after closing,
 * so the process would end with 143 instead of 0.
 */
export function shutdownOnSignals(app: INestApplication, graceMs: number): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // If closing itself hangs, do not outlive the orchestrator's patience silently.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, graceMs + 10_000).unref();

    const lifecycle = app.get(Lifecycle);
    const deadline = Date.now() + graceMs;
    lifecycle.startDraining();
    logger.log(`${signal}: draining, ${lifecycle.adjustments.size} adjustment(s) in flight`);
    if (!(await lifecycle.adjustments.whenIdle(graceMs))) {
      logger.warn(`${lifecycle.adjustments.size} adjustment(s) still in flight after ${graceMs} ms; closing anyway`);
    }
    // Their events are on their way to subscribers here: closing now would cut them off.
    if (!(await lifecycle.deliveries.whenIdle(deadline - Date.now()))) {
      logger.warn(`${lifecycle.deliveries.size} usage.changed event(s) not yet written to subscribers; closing anyway`);
    }
    await app.get(RealtimeServer).close();
    await app.close();
    await flushTracing(TRACE_FLUSH_MS);
    logger.log('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
