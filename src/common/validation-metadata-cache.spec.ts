import 'reflect-metadata';
import { getMetadataStorage, IsInt, IsString, MaxLength, registerDecorator, validateSync } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { cacheValidationMetadata } from './validation-metadata-cache';

type Storage = ReturnType<typeof getMetadataStorage>;

function fakeStorage(): { storage: Storage; lookUp: jest.Mock; register: jest.Mock } {
  const lookUp = jest.fn((target: { name: string }) => [{ propertyName: target.name } as unknown as ValidationMetadata]);
  const register = jest.fn();
  const storage = { getTargetValidationMetadatas: lookUp, addValidationMetadata: register } as unknown as Storage;
  return { storage, lookUp, register };
}

describe('cacheValidationMetadata', () => {
  it('looks a class up once per set of options, and again after any rule is registered', () => {
    const { storage, lookUp, register } = fakeStorage();
    cacheValidationMetadata(storage);
    cacheValidationMetadata(storage); // installing twice wraps once
    class A {}
    class B {}
    const first = storage.getTargetValidationMetadatas(A, '', false, false);
    expect(storage.getTargetValidationMetadatas(A, '', false, false)).toEqual(first);
    expect(lookUp).toHaveBeenCalledTimes(1);

    storage.getTargetValidationMetadatas(B, '', false, false);
    storage.getTargetValidationMetadatas(A, '', true, false);
    storage.getTargetValidationMetadatas(A, '', false, false, ['a,b']);
    storage.getTargetValidationMetadatas(A, '', false, false, ['a', 'b']);
    storage.getTargetValidationMetadatas(A, '', false, false, ['a', 'b']);
    expect(lookUp).toHaveBeenCalledTimes(5);

    storage.addValidationMetadata({} as ValidationMetadata);
    expect(register).toHaveBeenCalledTimes(1);
    storage.getTargetValidationMetadatas(A, '', false, false);
    expect(lookUp).toHaveBeenCalledTimes(6);
  });

  it('hands each caller its own list, so changing one changes no later answer', () => {
    const { storage } = fakeStorage();
    cacheValidationMetadata(storage);
    class A {}
    storage.getTargetValidationMetadatas(A, '', false, false).length = 0;
    expect(storage.getTargetValidationMetadatas(A, '', false, false)).toHaveLength(1);
  });

  describe("on class-validator's own storage", () => {
    beforeAll(() => cacheValidationMetadata());

    class Parent {
      @IsString()
      name!: unknown;
    }

    it('validates a class as before, and a subclass loaded after its parent was validated inherits its rules', () => {
      expect(validateSync(Object.assign(new Parent(), { name: 1 })).map((e) => e.property)).toEqual(['name']);
      expect(validateSync(Object.assign(new Parent(), { name: 'x' }))).toEqual([]);

      class Child extends Parent {
        @IsInt()
        count!: unknown;
      }
      const errors = validateSync(Object.assign(new Child(), { name: 2, count: 'three' }));
      expect(errors.map((e) => e.property).sort()).toEqual(['count', 'name']);
    });

    // (A null or undefined `constructor` throws inside class-validator itself, cached or not.)
    it('validates an object whose own `constructor` is not a class as class-validator does, rather than throwing', () => {
      for (const constructor of [1, 'Parent', true, {}]) {
        const errors = validateSync({ constructor, name: 1 } as object);
        expect(errors.map((e) => [e.property, Object.keys(e.constraints ?? {})])).toEqual([[undefined, ['unknownValue']]]);
      }
    });

    it('sees a rule registered at run time on a class already validated', () => {
      class Late {
        @MaxLength(5)
        text!: unknown;
      }
      expect(validateSync(Object.assign(new Late(), { text: 'abc' }))).toEqual([]);
      registerDecorator({
        target: Late,
        propertyName: 'text',
        constraints: [],
        options: { message: 'must not be abc' },
        validator: { validate: (value: unknown) => value !== 'abc' },
      });
      const errors = validateSync(Object.assign(new Late(), { text: 'abc' }));
      expect(errors).toHaveLength(1);
      expect(Object.values(errors[0].constraints ?? {})).toEqual(['must not be abc']);
    });
  });
});
