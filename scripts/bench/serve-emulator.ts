/**
 * The RevenueCat emulator in its own process for the benchmark: rate limits lifted (the transaction limit
 * set to BENCH_TRANSACTIONS_PER_MINUTE when given), request recording
 * off (it would grow without bound under load), and BENCH_USERS customers `bench_user_<i>` seeded for the
 * adjustment and fan-out scenarios. Talks to the benchmark over IPC (see lib/child-side.ts).
 */
import { RevenueCatEmulator } from '../../emulator/revenuecat-emulator';
import { failStart, serveChild } from './lib/child-side';

const BENCH_USER_PREFIX = 'bench_user_';
const BENCH_USER_BALANCE = 1_000_000;

async function main(): Promise<void> {
  const users = Number(process.env.BENCH_USERS ?? '0');
  if (!Number.isInteger(users) || users < 0) throw new Error(`BENCH_USERS must be a whole number, got ${process.env.BENCH_USERS}`);
  // The bulk benchmark has RevenueCat's transaction limit enforced, at the budget it gives the gateway.
  const transactions = process.env.BENCH_TRANSACTIONS_PER_MINUTE ? Number(process.env.BENCH_TRANSACTIONS_PER_MINUTE) : Infinity;
  const emulator = new RevenueCatEmulator({
    rateLimits: { project_configuration: Infinity, customer_information: Infinity, virtual_currencies_create_transaction: transactions },
    record: false,
  });
  for (let i = 0; i < users; i++) emulator.addCustomer(`${BENCH_USER_PREFIX}${i}`, { CRD: BENCH_USER_BALANCE });
  const url = await emulator.listen(0, '127.0.0.1');
  serveChild(
    Number(new URL(url).port),
    { close: () => emulator.close() },
    {
      url,
      apiKey: emulator.apiKey,
      projectId: emulator.projectId,
    },
  );
}

main().catch((error: unknown) => failStart('The emulator', error));
