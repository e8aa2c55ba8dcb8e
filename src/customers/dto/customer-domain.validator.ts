import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import {
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { appConfig } from '../../config/configuration';

const DEFAULT_SUFFIX = '.onmicrosoft.com';

/** 1–27 of a-z0-9, hyphens only inside, then the configured suffix (CONTRACT section 10). */
export function customerDomainPattern(suffix: string): RegExp {
  const escaped = suffix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^[a-z0-9](?:[a-z0-9-]{0,25}[a-z0-9])?${escaped}$`, 'i');
}

/** Injectable so the suffix comes from CUSTOMER_DOMAIN_SUFFIX (app.setup.ts registers the container). */
@Injectable()
@ValidatorConstraint({ name: 'customerDomain' })
export class CustomerDomainConstraint implements ValidatorConstraintInterface {
  private readonly suffix: string;
  private readonly pattern: RegExp;

  constructor(@Optional() @Inject(appConfig.KEY) app?: ConfigType<typeof appConfig>) {
    this.suffix = app?.customerDomainSuffix ?? DEFAULT_SUFFIX;
    this.pattern = customerDomainPattern(this.suffix);
  }

  validate(value: unknown): boolean {
    return typeof value === 'string' && this.pattern.test(value);
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be 1 to 27 letters, digits or inner hyphens followed by ${this.suffix}`;
  }
}
