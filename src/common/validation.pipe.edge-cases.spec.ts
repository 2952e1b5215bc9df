import 'reflect-metadata';
import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { Exclude } from 'class-transformer';
import { IsOptional, IsString } from 'class-validator';
import { createValidationPipe } from './validation.pipe';

/** A class-level @Exclude(): class-transformer copies no key at all (strategy excludeAll). */
@Exclude()
class ExcludedByClass {
  @IsOptional()
  @IsString()
  note?: string;
}

/** The same with a required field: Nest refuses (nothing is copied), the fast path accepts. */
@Exclude()
class ExcludedByClassRequired {
  @IsString()
  note!: string;
}

/** A field named `prototype`: Nest's stripProtoKeys deletes it from the value before plainToInstance. */
class WithPrototypeField {
  @IsString()
  prototype!: string;
}

/** A key that the instance inherits as a function (Object.prototype.toString): class-transformer skips it. */
class Loose {
  @IsOptional()
  @IsString()
  name?: string;
}

/** A function-valued field initializer: class-transformer keeps it (newValue[key] instanceof Function). */
class WithFunctionField {
  @IsOptional()
  @IsString()
  name?: string;

  format: unknown = (x: string) => x.trim();
}

/** Cases a probe found where the direct path once differed from Nest's pipe: class-level @Exclude, a key named prototype, keys over functions. */
describe('FlatArgsValidationPipe against Nest: edge cases', () => {
  const exceptionFactory = (errors: ValidationError[]) => errors.map((error) => [error.property, error.constraints]);
  const nest = new ValidationPipe({ transform: true, forbidUnknownValues: true, validateCustomDecorators: false, exceptionFactory });
  const ours = Object.assign(createValidationPipe(), { exceptionFactory });
  const args = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

  async function outcome(pipe: ValidationPipe, value: unknown, metatype: ArgumentMetadata['metatype']): Promise<unknown> {
    try {
      const result = (await pipe.transform(value, args(metatype))) as Record<string, unknown>;
      return { ok: { ...result, toString: Object.prototype.hasOwnProperty.call(result, 'toString') ? result.toString : 'inherited', format: typeof result.format }, kind: result?.constructor?.name };
    } catch (error) {
      return { refused: error };
    }
  }

  it.each([
    ['a class-level @Exclude()', ExcludedByClass, () => ({ note: 'kept?' })],
    ['a class-level @Exclude() with a required field', ExcludedByClassRequired, () => ({ note: 'n' })],
    ['a field named prototype', WithPrototypeField, () => ({ prototype: 'p' })],
    ['an inherited method name as a key', Loose, () => ({ name: 'n', toString: 'x' })],
    ['a key over a function-valued field initializer', WithFunctionField, () => ({ name: 'n', format: 'x' })],
  ] as const)('answers %s as Nest does', async (_name, metatype, value) => {
    expect(await outcome(ours, value(), metatype)).toStrictEqual(await outcome(nest, value(), metatype));
  });
});
