import { Logger } from '@nestjs/common';
import { BulkAdjustmentView } from './bulk-adjustments.service';
import { BulkProgressStream } from './bulk-progress';

function view(overrides: Partial<BulkAdjustmentView> = {}): BulkAdjustmentView {
  return {
    id: 'bulk_1',
    currency: 'CRD',
    reason: 'T-90 progress',
    status: 'RUNNING',
    createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null },
    total: 3,
    queued: 3,
    applied: 0,
    rejected: 0,
    unknown: 0,
    cancelled: 0,
    etaSeconds: 2,
    createdAt: new Date(0),
    startedAt: new Date(0),
    finishedAt: null,
    ...overrides,
  };
}

describe('BulkProgressStream', () => {
  it('answers the state at once, then each changed state (not a moved estimate), the end once, then completes', async () => {
    const reads = [
      view({ etaSeconds: 1 }),
      view({ queued: 2, applied: 1 }),
      view({ queued: 2, applied: 1 }),
      view({ status: 'COMPLETED', queued: 0, applied: 3, etaSeconds: null }),
    ];
    const read = jest.fn(async () => reads.shift() ?? null);
    const stream = new BulkProgressStream(view(), read, 1);
    const seen: Array<Partial<BulkAdjustmentView>> = [];
    for await (const update of stream) seen.push({ status: update.status, applied: update.applied });
    expect(seen).toEqual([
      { status: 'RUNNING', applied: 0 },
      { status: 'RUNNING', applied: 1 },
      { status: 'COMPLETED', applied: 3 },
    ]);
    expect(read).toHaveBeenCalledTimes(4);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('answers a job that has ended with its state alone, reading nothing more', async () => {
    const read = jest.fn();
    const stream = new BulkProgressStream(view({ status: 'CANCELLED', cancelled: 3, queued: 0 }), read, 1);
    expect((await stream.next()).value).toMatchObject({ status: 'CANCELLED' });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(read).not.toHaveBeenCalled();
  });

  it('stops at once when the subscriber leaves, also in the middle of a wait', async () => {
    const read = jest.fn(async () => view());
    const stream = new BulkProgressStream(view(), read, 60_000);
    await stream.next();
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(read).not.toHaveBeenCalled();
  });

  it('keeps following through a database that does not answer for a moment', async () => {
    const read = jest
      .fn<Promise<BulkAdjustmentView | null>, []>()
      .mockRejectedValueOnce(new Error('the database does not answer'))
      .mockResolvedValueOnce(view({ status: 'COMPLETED', queued: 0, applied: 3 }));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const stream = new BulkProgressStream(view(), read, 1);
    await stream.next();
    expect((await stream.next()).value).toMatchObject({ status: 'COMPLETED' });
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});
