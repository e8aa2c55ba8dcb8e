import { registerDecorator, ValidationOptions } from 'class-validator';

const LEGAL_FORMS = new Set(['llc', 'inc', 'ltd', 'gmbh', 'corp']);

/**
 * A company name as Partner Center accepts it (CONTRACT section 10): 2–255 characters, not only
 * white space or punctuation, not a bare legal-form abbreviation such as "Inc.".
 */
export function companyNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < 2 || value.length > 255) return 'must be 2 to 255 characters long';
  if (!/[\p{L}\p{N}]/u.test(value)) return 'must contain a letter or a digit';
  const bare = value.toLowerCase().replace(/[\s\p{P}]/gu, '');
  if (LEGAL_FORMS.has(bare)) return 'must be a company name, not a bare legal form';
  return undefined;
}

export function IsCompanyName(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCompanyName',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => companyNameProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${companyNameProblem(args?.value)}`,
      },
    });
}
