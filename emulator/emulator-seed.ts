import { EmulatorCurrency } from './emulator.types';

export const SEED_CURRENCIES: readonly EmulatorCurrency[] = [
  {
    code: 'CRD',
    name: 'Credits',
    description: 'Credits spent on generations',
    productGrants: [
      { productIds: ['app.credits.starter.monthly'], amount: 100, trialAmount: 10, expireAtCycleEnd: true },
      {
        productIds: ['app.credits.pro.monthly', 'app.credits.pro.annual'],
        amount: 1000,
        trialAmount: 50,
        expireAtCycleEnd: true,
      },
      { productIds: ['app.credits.max.monthly'], amount: 5000, trialAmount: 0, expireAtCycleEnd: true },
    ],
  },
];

export const SEED_CUSTOMERS: ReadonlyArray<{ id: string; balances: Record<string, number> }> = [
  { id: 'user_2abcXYZ', balances: { CRD: 250 } },
  { id: 'user_demo_empty', balances: {} },
  { id: 'user_demo_rich', balances: { CRD: 100_000 } },
];
