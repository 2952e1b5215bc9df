import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

// C0 and C1 control characters, DEL included.
const CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** A RevenueCat customer id: 1 to 1500 characters, no control characters. */
export function IsCustomerId(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'must be a string' }),
    Length(1, 1500, { message: 'must be 1 to 1500 characters long' }),
    Matches(CONTROL_CHARACTERS, { message: 'must not contain control characters' }),
  );
}
