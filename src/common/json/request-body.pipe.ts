import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { invalidInput } from '../errors/error-catalogue';
import { DtoClass, foldToDto } from './fold-keys';
import { validationProblems } from './validation-problems';

/**
 * A DTO with rules that span several fields (country-dependent address rules). Called after
 * class-validator even when that found problems, so one 400 lists every invalid field; it must
 * therefore tolerate fields of the wrong type.
 */
export interface CrossFieldRules {
  crossFieldProblems(): string[];
}

function hasCrossFieldRules(value: object): value is CrossFieldRules {
  return typeof (value as Partial<CrossFieldRules>).crossFieldProblems === 'function';
}

const PRIMITIVES: unknown[] = [String, Number, Boolean, Array, Object];

/** The global pipe for request bodies: fold (fold-keys.ts), validate, and list every problem. */
@Injectable()
export class RequestBodyPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dtoClass = metadata.metatype;
    if (metadata.type !== 'body' || !dtoClass || PRIMITIVES.includes(dtoClass)) return value;

    const problems: string[] = [];
    const folded = foldToDto(value ?? {}, dtoClass as DtoClass, problems);
    if (typeof folded !== 'object' || folded === null || Array.isArray(folded)) {
      throw invalidInput(['The request body must be a JSON object']);
    }
    const dto = plainToInstance(dtoClass, folded) as object;
    const errors = await validate(dto, { whitelist: true, forbidUnknownValues: false });
    problems.push(...validationProblems(errors));
    if (hasCrossFieldRules(dto)) problems.push(...dto.crossFieldProblems());

    if (problems.length > 0) throw invalidInput([...new Set(problems)]);
    return dto;
  }
}
