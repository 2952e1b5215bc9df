import 'reflect-metadata';
import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { Expose, Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { createValidationPipe } from './validation.pipe';

class Flat {
  @IsString()
  @MaxLength(5)
  userId!: string;

  @IsOptional()
  @IsBoolean()
  includeEmpty?: boolean;
}

class Trimmed {
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(3)
  reason!: string;
}

class Typed {
  @Type(() => Number)
  @IsInt()
  count!: number;
}

class Inner {
  @IsString()
  name!: string;
}

class Outer {
  @ValidateNested()
  @Type(() => Inner)
  inner!: Inner;
}

class WithGetter {
  @IsString()
  a!: string;

  get b(): string {
    return 'from the prototype';
  }
}

class Exposed {
  @Expose({ name: 'x' })
  @IsString()
  y!: string;
}

class Child extends Flat {
  @IsInt()
  n!: number;
}

/** The service's pipe against Nest's own, built with the same options. */
describe('createValidationPipe', () => {
  const ours = createValidationPipe();
  const nest = new ValidationPipe({
    transform: true,
    forbidUnknownValues: true,
    validateCustomDecorators: false,
    exceptionFactory: (errors: ValidationError[]) => errors.map((error) => [error.property, error.constraints]),
  });
  // Same options, errors compared as data: ours maps them to the catalogue, so its refusals are compared by code.
  const oursRaw = Object.assign(createValidationPipe(), {
    exceptionFactory: (errors: ValidationError[]) => errors.map((error) => [error.property, error.constraints]),
  });
  const args = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

  async function outcome(pipe: ValidationPipe, value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      const result = (await pipe.transform(value, metadata)) as unknown;
      return { ok: result, kind: result?.constructor?.name };
    } catch (error) {
      return { refused: error };
    }
  }

  const cases: { name: string; metatype: ArgumentMetadata['metatype']; value: unknown }[] = [
    { name: 'a valid flat object', metatype: Flat, value: { userId: 'u_1', includeEmpty: true } },
    { name: 'a flat object with a key left out', metatype: Flat, value: { userId: 'u_1' } },
    { name: 'a flat object with an unknown key', metatype: Flat, value: { userId: 'u_1', extra: 1 } },
    { name: 'a flat object with a null', metatype: Flat, value: { userId: 'u_1', includeEmpty: null } },
    { name: 'an invalid flat object', metatype: Flat, value: { userId: 'too long', includeEmpty: 'yes' } },
    { name: 'a prototype-less flat object', metatype: Flat, value: Object.assign(Object.create(null) as object, { userId: 'u_2' }) },
    { name: 'an @Transform class', metatype: Trimmed, value: { reason: '  ab  ' } },
    { name: 'an @Transform class, invalid', metatype: Trimmed, value: { reason: ' abcd ' } },
    { name: 'an @Type class', metatype: Typed, value: { count: '12' } },
    { name: 'a nested object', metatype: Outer, value: { inner: { name: 'n' } } },
    { name: 'a nested object, invalid', metatype: Outer, value: { inner: { name: 1 } } },
    { name: 'a class with a getter', metatype: WithGetter, value: { a: 'a', b: 'from the caller' } },
    { name: 'an @Expose class', metatype: Exposed, value: { x: 'renamed' } },
    { name: 'a subclass', metatype: Child, value: { userId: 'u', n: 3 } },
    { name: 'a subclass, invalid in its parent', metatype: Child, value: { userId: 'u_too_long', n: 3 } },
    { name: 'a primitive metatype', metatype: String, value: 'plain' },
    { name: 'a null for a class', metatype: Flat, value: null },
    { name: 'an array for a class', metatype: Flat, value: [{ userId: 'u' }] },
    { name: 'a string for a class', metatype: Flat, value: 'u_1' },
  ];

  it.each(cases)('answers $name as Nest’s ValidationPipe does', async ({ metatype, value }) => {
    const expected = await outcome(nest, structuredCloneKeepingPrototype(value), args(metatype));
    expect(await outcome(oursRaw, structuredCloneKeepingPrototype(value), args(metatype))).toStrictEqual(expected);
  });

  it('makes a valid flat object into the class without Nest’s general path, and sends everything else through it', async () => {
    const general = jest.spyOn(ValidationPipe.prototype, 'transform');
    try {
      const flat = await ours.transform({ userId: 'u_1', includeEmpty: false }, args(Flat));
      expect(flat).toBeInstanceOf(Flat);
      expect(flat).toEqual(Object.assign(new Flat(), { userId: 'u_1', includeEmpty: false }));
      expect(general).toHaveBeenCalledTimes(0);

      await ours.transform({ reason: ' ab ' }, args(Trimmed));
      await ours.transform({ inner: { name: 'n' } }, args(Outer));
      expect(general).toHaveBeenCalledTimes(2);
      // A refusal is always Nest's own.
      await expect(ours.transform({ userId: 'much too long' }, args(Flat))).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(general).toHaveBeenCalledTimes(3);
    } finally {
      general.mockRestore();
    }
  });
});

/** A copy, so the two pipes never share a value (Nest's strips and closes gaps in place). */
function structuredCloneKeepingPrototype(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(structuredCloneKeepingPrototype);
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const [key, field] of Object.entries(value)) copy[key] = structuredCloneKeepingPrototype(field);
  return copy;
}
