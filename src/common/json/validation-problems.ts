import { ValidationError } from 'class-validator';

/**
 * class-validator errors as the contract lists them: one line per problem, each naming the field by
 * its camelCase JSON path (`billingProfile.defaultAddress.postalCode must …`).
 */
export function validationProblems(errors: ValidationError[], parentPath = ''): string[] {
  return errors.flatMap((error) => {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(`${error.property} `)
        ? `${path}${message.slice(error.property.length)}`
        : `${path}: ${message}`,
    );
    return [...own, ...validationProblems(error.children ?? [], path)];
  });
}
