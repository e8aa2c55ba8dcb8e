import { ApiSchema, PartialType, PickType } from '@nestjs/swagger';
import { CrossFieldRules } from '../../common/json/request-body.pipe';
import { CreateCustomerDto } from '../../customers/dto/create-customer.dto';

/**
 * `POST /v1/relationshiprequests/{requestId}/acceptance` (CONTRACT section 11): the company and
 * billing profile of a customer new to the service, nothing for one it knows. Whatever is given is
 * validated exactly as in `POST /v1/customers`; the service then requires both parts when the
 * customer is new.
 */
@ApiSchema({
  description:
    'Both parts, as in POST /v1/customers, from a customer new to the service; nothing from one it knows',
})
export class AcceptRelationshipRequestDto
  extends PartialType(PickType(CreateCustomerDto, ['companyProfile', 'billingProfile'] as const))
  implements CrossFieldRules
{
  crossFieldProblems(): string[] {
    // Mapped types copy the field rules but not methods: the country rules are borrowed as they
    // are, and they tolerate absent parts.
    return CreateCustomerDto.prototype.crossFieldProblems.call(this);
  }
}
