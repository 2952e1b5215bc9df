import 'reflect-metadata';
import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { AddBulkAdjustmentItemsArgs } from '../bulk/dto/bulk-adjustment.args';
import { AdjustCreditsInput } from '../credits/dto/adjust-credits.input';
import { BalancesArgs } from '../credits/dto/balances.args';
import { AdjustmentsArgs, AdjustmentFilterInput } from '../journal/dto/adjustments.args';
import { GatewayError } from './errors';
import { failureOf } from './testing/failure-of';
import { createValidationPipe } from './validation';

const args = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();
  const refusal = async (value: unknown, metatype: ArgumentMetadata['metatype']) => {
    const error = await failureOf(GatewayError, pipe.transform(value, args(metatype)) as Promise<unknown>);
    return { code: error.code, status: error.status, field: error.extensions.field, message: error.message };
  };

  it('is Nest’s own ValidationPipe, not a subclass', () => {
    expect(Object.getPrototypeOf(pipe)).toBe(ValidationPipe.prototype);
  });

  it('leaves class-validator’s metadata storage as the library made it', async () => {
    await pipe.transform({ userId: 'user_1', includeEmpty: false }, args(BalancesArgs));
    const storage = getMetadataStorage();
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(storage)).filter((name) => name !== 'constructor');
    expect(methods).toContain('getTargetValidationMetadatas');
    expect(methods.filter((name) => Object.prototype.hasOwnProperty.call(storage, name))).toEqual([]);
  });

  it('makes a valid argument into its class', async () => {
    const balances = await pipe.transform({ userId: 'user_2abcXYZ', includeEmpty: true }, args(BalancesArgs));
    expect(balances).toBeInstanceOf(BalancesArgs);
    expect(balances).toEqual(Object.assign(new BalancesArgs(), { userId: 'user_2abcXYZ', includeEmpty: true }));
  });

  it('runs class-transformer’s @Transform and @Type: a reason is trimmed, a nested filter becomes its class', async () => {
    const input = (await pipe.transform({ userId: 'u_1', amount: 5, reason: '  ticket 42  ', currency: 'CRD' }, args(AdjustCreditsInput))) as AdjustCreditsInput;
    expect(input.reason).toBe('ticket 42');
    const page = (await pipe.transform({ filter: { userId: 'u_1' }, first: 20 }, args(AdjustmentsArgs))) as AdjustmentsArgs;
    expect(page.filter).toBeInstanceOf(AdjustmentFilterInput);
  });

  it('refuses a bad argument with 400 invalid_argument naming the field', async () => {
    expect(await refusal({ userId: '..', includeEmpty: false }, BalancesArgs)).toEqual({
      code: 'invalid_argument',
      status: 400,
      field: 'userId',
      message: 'invalid_argument: userId must not be ".." (a path step)',
    });
    // A lone surrogate, which JSON can carry and PostgreSQL cannot store.
    expect(await refusal({ userId: 'user_\ud800', includeEmpty: false }, BalancesArgs)).toMatchObject({ code: 'invalid_argument', field: 'userId' });
  });

  it('names the leaf of a nested input: a filter’s field, a bulk item’s field', async () => {
    expect(await refusal({ filter: { currency: 'not a code' }, first: 20 }, AdjustmentsArgs)).toMatchObject({ code: 'invalid_argument', field: 'currency' });
    expect(
      await refusal(
        {
          id: 'b_1',
          items: [
            { userId: 'u_1', amount: 1 },
            { userId: 'u_2', amount: 1.5 },
          ],
        },
        AddBulkAdjustmentItemsArgs,
      ),
    ).toMatchObject({
      code: 'invalid_argument',
      field: 'amount',
      message: 'invalid_argument: amount must be an integer',
    });
  });

  it('answers a zero amount with amount_must_be_nonzero, in an input or a bulk item', async () => {
    expect(await refusal({ userId: 'u_1', amount: 0, reason: 'ticket 42', currency: 'CRD' }, AdjustCreditsInput)).toMatchObject({
      code: 'amount_must_be_nonzero',
      field: 'amount',
    });
    expect(await refusal({ id: 'b_1', items: [{ userId: 'u_1', amount: 0 }] }, AddBulkAdjustmentItemsArgs)).toMatchObject({ code: 'amount_must_be_nonzero' });
  });

  it('refuses a value that is not an object for a class, and passes scalar arguments through', async () => {
    expect(await refusal('user_1', BalancesArgs)).toMatchObject({ code: 'invalid_argument' });
    expect(await refusal(null, BalancesArgs)).toMatchObject({ code: 'invalid_argument' });
    await expect(pipe.transform('plain', args(String))).resolves.toBe('plain');
  });
});
