import { ArgumentMetadata, Type, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformerMetadata } from 'class-transformer/types/MetadataStorage';
import { Errors, GatewayError } from './errors';
import { cacheValidationMetadata } from './validation-metadata-cache';

// class-transformer's own registry of @Type, @Transform, @Expose and @Exclude (not re-exported by its index).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerMetadata };

/** Turns class-validator failures into the catalogue's codes, naming the first bad field. */
export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new FlatArgsValidationPipe({
    transform: true,
    forbidUnknownValues: true,
    validateCustomDecorators: false,
    exceptionFactory: (errors: ValidationError[]) => fromValidationErrors(errors),
  });
}

/**
 * Nest's ValidationPipe, with a shorter way to the same instance for the commonest argument: a flat object
 * of strings, numbers and booleans (`balances(userId, includeEmpty)`) for a plain data class with no
 * class-transformer decorators. For such a value class-transformer's plainToInstance amounts to `new
 * Class()` and a copy of each key, and the pipe's other steps (closing array gaps, stripping prototype
 * keys, looking for binary values in nested objects) find nothing to do; together they were most of the
 * pipe's cost per request. The instance is validated by the same class-validator call, with the same
 * options. Anything else, and any value that fails validation, goes through Nest's own transform, so
 * every refusal is built by the library's path exactly as before.
 */
export class FlatArgsValidationPipe extends ValidationPipe {
  private readonly plainClasses = new WeakMap<Type<unknown>, boolean>();
  private readonly options: ValidationPipeOptions;

  constructor(options: ValidationPipeOptions) {
    super(options);
    this.options = options;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const entity = this.flatInstance(value, metadata);
    if (entity === undefined) return super.transform(value, metadata);
    const errors = await this.validate(entity, { ...this.validatorOptions, validationError: { target: false, ...this.validatorOptions.validationError } });
    return errors.length === 0 ? entity : super.transform(value, metadata);
  }

  /** What plainToInstance would make of `value`, when it is a flat object for a plain data class; else undefined. */
  private flatInstance(value: unknown, metadata: ArgumentMetadata): object | undefined {
    const metatype = metadata.metatype as Type<unknown> | undefined;
    if (this.options.expectedType || this.options.transformOptions || !metatype || !this.toValidate(metadata)) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const prototype: unknown = Object.getPrototypeOf(value);
    if ((prototype !== Object.prototype && prototype !== null) || !this.isPlainClass(metatype)) return undefined;
    const instance = new metatype() as Record<string, unknown>;
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      // Nest strips __proto__, prototype and constructor first; class-transformer leaves alone a key where
      // the new instance already holds a function (an inherited method, a function-valued initializer).
      if (key === '__proto__' || key === 'constructor' || key === 'prototype' || typeof instance[key] === 'function') return undefined;
      if (field !== null && (typeof field === 'object' || typeof field === 'function')) return undefined;
      if (defaultMetadataStorage.findTypeMetadata(metatype, key) || defaultMetadataStorage.findTransformMetadatas(metatype, key, TransformationType.PLAIN_TO_CLASS).length > 0) {
        return undefined;
      }
      instance[key] = field;
    }
    return instance;
  }

  /** A class whose prototypes hold nothing but their constructors, with no @Expose or @Exclude anywhere (class or property). */
  private isPlainClass(metatype: Type<unknown>): boolean {
    let plain = this.plainClasses.get(metatype);
    if (plain === undefined) {
      // getStrategy sees a class-level @Expose or @Exclude, which the property lists leave out.
      plain =
        defaultMetadataStorage.getStrategy(metatype) === 'none' &&
        defaultMetadataStorage.getExposedMetadatas(metatype).length === 0 &&
        defaultMetadataStorage.getExcludedMetadatas(metatype).length === 0;
      for (let prototype = metatype.prototype as object | null; plain && prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
        plain = Reflect.ownKeys(prototype).every((key) => key === 'constructor');
      }
      this.plainClasses.set(metatype, plain);
    }
    return plain;
  }
}

function fromValidationErrors(errors: ValidationError[]): GatewayError {
  const flat = flatten(errors);
  if (flat.some((error) => error.property === 'amount' && error.constraints?.notEquals)) {
    return Errors.amountMustBeNonzero();
  }
  const first = flat[0];
  if (!first) return Errors.invalidArgument('input', 'is invalid');
  const problem = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
  return Errors.invalidArgument(first.property, problem);
}

/** The leaves: nested input objects report their own properties. */
function flatten(errors: ValidationError[]): ValidationError[] {
  return errors.flatMap((error) => (error.children?.length ? flatten(error.children) : [error]));
}
