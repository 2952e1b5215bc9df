import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, NotEquals, ValidateBy } from 'class-validator';
import { isWellFormedText } from './text';

// C0 and C1 control characters, DEL included.
const CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;
// Line breaks (LF, CRLF) and tabs, but no other control character and no lone CR.
const REASON_TEXT = /^(?:[^\p{Cc}]|[\t\n]|\r\n)*$/u;
// What a reader does not see: white space, format characters, Unicode's default-ignorable code points
// (zero widths, joiners, variation selectors, tags; the Hangul fillers are among them) and the braille
// blank, which fonts draw as an empty cell.
const INVISIBLE = /[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
// Bidirectional controls (embeddings, overrides, isolates, marks) reorder the text around them where it
// is shown: the audit log, the console, RevenueCat's dashboard. A reason holding one is refused.
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const MIN_VISIBLE_REASON_CHARACTERS = 3;

/** Every text input: well-formed Unicode, or `invalid_argument` naming the field. */
export function IsWellFormedText(): PropertyDecorator {
  return ValidateBy({
    name: 'isWellFormedText',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isWellFormedText(value),
      defaultMessage: () => 'must be well-formed Unicode text (no lone surrogate)',
    },
  });
}

/**
 * A RevenueCat customer id: 1 to 1500 characters, no control characters. It becomes one path segment,
 * so `.` and `..` (which an HTTP client resolves as path steps, encoded or not) are not ids.
 */
export function IsCustomerId(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'must be a string' }),
    IsWellFormedText(),
    Length(1, 1500, { message: 'must be 1 to 1500 characters long' }),
    Matches(CONTROL_CHARACTERS, { message: 'must not contain control characters' }),
    NotEquals('.', { message: 'must not be "." (a path step)' }),
    NotEquals('..', { message: 'must not be ".." (a path step)' }),
  );
}

export function countsVisibleCharacters(value: string, atLeast: number): boolean {
  let visible = 0;
  for (const character of value) {
    if (!INVISIBLE.test(character) && ++visible >= atLeast) return true;
  }
  return false;
}

/**
 * An audit reason, already trimmed: 3 to 500 characters, line breaks and tabs allowed, no bidirectional
 * control, and at least 3 characters a reader can see (a run of zero-width spaces or Hangul fillers is
 * empty on the dashboard).
 */
export function IsReason(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'must be a string' }),
    IsWellFormedText(),
    Length(3, 500, { message: 'must be 3 to 500 characters long after trimming' }),
    Matches(REASON_TEXT, { message: 'must not contain control characters other than line breaks and tabs' }),
    ValidateBy({
      name: 'hasNoBidiControls',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !BIDI_CONTROL.test(value),
        defaultMessage: () => 'must not contain bidirectional control characters (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069)',
      },
    }),
    ValidateBy({
      name: 'hasVisibleCharacters',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && countsVisibleCharacters(value, MIN_VISIBLE_REASON_CHARACTERS),
        defaultMessage: () => `must contain at least ${MIN_VISIBLE_REASON_CHARACTERS} characters that are not white space or invisible`,
      },
    }),
  );
}
