import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

/** PATCH only removes the reseller relationship (CONTRACT 6.4): the one accepted value is none. */
export class UpdateCustomerDto {
  @ApiProperty({ enum: ['none'], example: 'none' })
  @IsString()
  @Matches(/^none$/i, { message: '$property must be none (the only change this operation makes)' })
  relationshipToPartner!: string;
}
