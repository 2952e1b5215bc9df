import { ValidationError, ValidationPipe } from '@nestjs/common';
import { Errors, GatewayError } from './errors';

/** Nest's ValidationPipe, whose refusals are the catalogue's: `invalid_argument` naming the first bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    forbidUnknownValues: true,
    validateCustomDecorators: false,
    exceptionFactory: fromValidationErrors,
  });
}

export function fromValidationErrors(errors: ValidationError[]): GatewayError {
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
