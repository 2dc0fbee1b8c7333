import { HttpStatus } from '@nestjs/common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { ApiError } from '../common/api-error';

export const MIN_PASSWORD_LENGTH = 10;

/** ~49k leaked passwords from zxcvbn-ts; only those long enough to pass the length rule matter. */
const COMMON_PASSWORDS = new Set(
  (dictionary['passwords-common'] as string[]).filter((word) => word.length >= MIN_PASSWORD_LENGTH),
);

/** Throws 400 WEAK_PASSWORD naming the rule that failed (DESIGN §4 policy). */
export function assertStrongPassword(password: string, field = 'password'): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'WEAK_PASSWORD',
      `${field} must be at least ${MIN_PASSWORD_LENGTH} characters long`,
      { field, rule: 'min_length', minLength: MIN_PASSWORD_LENGTH },
    );
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'WEAK_PASSWORD',
      `${field} is among the most common leaked passwords; choose another`,
      { field, rule: 'common_password' },
    );
  }
}
