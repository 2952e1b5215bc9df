import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { EmulatorControls } from './emulator-control';
import { FaultInjector } from './emulator-faults';
import { EmulatorIdempotencyStore } from './emulator-idempotency';
import { EmulatorLedger } from './emulator-ledger';
import { FixedWindowRateLimiter, resolveRateLimits } from './emulator-rate-limiter';
import { RequestRecorder } from './emulator-recorder';
import { EmulatorRouter } from './emulator-router';
import { SEED_CURRENCIES, SEED_CUSTOMERS } from './emulator-seed';
import { EmulatorCurrency, EmulatorEndpoint, EmulatorFault, EmulatorTransaction, RecordedRequest, RevenueCatEmulatorOptions } from './emulator.types';

export * from './emulator.types';

export const EMULATOR_DEFAULT_API_KEY = 'sk_emulator_0000000000000000';
export const EMULATOR_DEFAULT_PROJECT_ID = 'proj_emulator';

/**
 * RevenueCat's virtual-currency API on a local port, for tests, the demo and the benchmark: its state
 * (the ledger), what it saw (requests, transactions) and the faults to inject. The HTTP side is
 * EmulatorRouter; each endpoint's behaviour is in endpoints/.
 */
export class RevenueCatEmulator {
  readonly apiKey: string;
  readonly projectId: string;
  readonly requests: RecordedRequest[];
  readonly transactions: EmulatorTransaction[];

  private readonly seedOnReset: boolean;
  private readonly ledger: EmulatorLedger;
  private readonly recorder: RequestRecorder;
  private readonly idempotency: EmulatorIdempotencyStore;
  private readonly rateLimiter: FixedWindowRateLimiter;
  private readonly faults = new FaultInjector();
  private readonly router: EmulatorRouter;
  private server?: Server;
  private listeningUrl?: string;

  constructor(options: RevenueCatEmulatorOptions = {}) {
    this.apiKey = options.apiKey ?? EMULATOR_DEFAULT_API_KEY;
    this.projectId = options.projectId ?? EMULATOR_DEFAULT_PROJECT_ID;
    if (!this.apiKey) throw new Error('The emulator API key must not be empty');
    if (!this.projectId) throw new Error('The emulator project id must not be empty');
    const now = options.now ?? Date.now;
    this.seedOnReset = options.seed ?? true;
    this.ledger = new EmulatorLedger(now);
    this.recorder = new RequestRecorder(options.record ?? true, now);
    this.requests = this.recorder.requests;
    this.transactions = this.recorder.transactions;
    this.idempotency = new EmulatorIdempotencyStore(now);
    this.rateLimiter = new FixedWindowRateLimiter(resolveRateLimits(options.rateLimits), now);
    this.router = new EmulatorRouter(
      { projectId: this.projectId, ledger: this.ledger, recorder: this.recorder },
      Buffer.from(this.apiKey),
      this.rateLimiter,
      this.idempotency,
      this.faults,
      this.controls(),
    );
    if (this.seedOnReset) this.seed();
  }

  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return Promise.reject(new Error('The emulator is already listening'));
    const server = createServer((req, res) => this.router.onRequest(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.server = undefined;
        reject(error);
      });
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo;
        const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.listeningUrl = `http://${hostPart}:${address.port}/v2`;
        resolve(this.listeningUrl);
      });
    });
  }

  get baseUrl(): string {
    if (!this.listeningUrl) throw new Error('The emulator is not listening; call listen() first');
    return this.listeningUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listeningUrl = undefined;
    this.faults.cancelDelays();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Without this, idle keep-alive sockets hold close() open until their timeout.
      server.closeAllConnections();
    });
  }

  reset(): void {
    this.faults.cancelDelays();
    this.ledger.clear();
    if (this.seedOnReset) this.seed();
    this.faults.clear();
    this.recorder.clear();
    this.idempotency.clear();
    this.rateLimiter.clear();
  }

  addCurrency(currency: EmulatorCurrency): void {
    this.ledger.addCurrency(currency);
  }

  setCurrencies(currencies: EmulatorCurrency[]): void {
    this.ledger.setCurrencies(currencies);
  }

  addCustomer(id: string, balances?: Record<string, number>): void {
    this.ledger.addCustomer(id, balances);
  }

  hasCustomer(id: string): boolean {
    return this.ledger.hasCustomer(id);
  }

  balanceOf(customerId: string, code: string): number {
    const balances = this.ledger.balancesOf(customerId);
    if (!balances) throw new Error(`Unknown emulator customer ${customerId}`);
    return balances.get(code) ?? 0;
  }

  injectFault(fault: EmulatorFault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Per-customer counts come from `requests`, so they are 0 when recording is off. */
  count(endpoint: EmulatorEndpoint, customerId?: string): number {
    return this.recorder.count(endpoint, customerId);
  }

  private controls(): EmulatorControls {
    return {
      reset: () => this.reset(),
      addCustomer: (id, balances) => this.addCustomer(id, balances),
      addCurrency: (currency) => this.addCurrency(currency),
      injectFault: (fault) => this.injectFault(fault),
      clearFaults: () => this.clearFaults(),
      customerBalances: (id) => {
        const balances = this.ledger.balancesOf(id);
        return balances ? Object.fromEntries(balances) : undefined;
      },
      stats: () => this.recorder.stats(),
    };
  }

  private seed(): void {
    this.ledger.setCurrencies([...SEED_CURRENCIES]);
    for (const customer of SEED_CUSTOMERS) this.ledger.addCustomer(customer.id, customer.balances);
  }
}
