import { ValidationError } from 'class-validator';

/** Constraints that say a value has the wrong type; when one fails, the others say nothing more. */
const TYPE_CONSTRAINTS = ['isString', 'isObject', 'isBoolean', 'isArray', 'isInt', 'isNumber'];

/**
 * class-validator errors as the contract lists them: one line per problem, each naming the field by
 * its camelCase JSON path (`billingProfile.defaultAddress.postalCode must …`). A missing required
 * field is "is required", and a value of the wrong type gets only its type problem, not a length or
 * format rule that cannot apply to it.
 */
export function validationProblems(errors: ValidationError[], parentPath = ''): string[] {
  return errors.flatMap((error) => {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    return [...ownProblems(error, path), ...validationProblems(error.children ?? [], path)];
  });
}

function ownProblems(error: ValidationError, path: string): string[] {
  const constraints = error.constraints ?? {};
  if (Object.keys(constraints).length === 0) return [];
  if (error.value === undefined || error.value === null) return [`${path} is required`];
  const typeProblems = Object.entries(constraints).filter(([name]) =>
    TYPE_CONSTRAINTS.includes(name),
  );
  const messages = Object.values(
    typeProblems.length > 0 ? Object.fromEntries(typeProblems) : constraints,
  );
  return messages.map((message) =>
    message.startsWith(`${error.property} `)
      ? `${path}${message.slice(error.property.length)}`
      : `${path}: ${message}`,
  );
}
