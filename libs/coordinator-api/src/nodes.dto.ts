import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBase64, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

/** Puts a hospital node's public keys on the allow-list. */
export class EnrolNodeDto {
  @ApiProperty({ example: 'cleveland', description: 'Human name of the site' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9 ._-]+$/)
  name!: string;

  @ApiProperty({ description: 'Ed25519 public key, base64 (32 bytes)' })
  @IsBase64()
  @Length(44, 44)
  signingPublicKey!: string;

  @ApiPropertyOptional({ description: 'X25519 public key, base64 (32 bytes); otherwise learnt from the signed Hello' })
  @IsOptional()
  @IsBase64()
  @Length(44, 44)
  encryptionPublicKey?: string;
}

/** Issues a one-time enrolment token. */
export class CreateEnrolmentTokenDto {
  @ApiProperty({ example: 'hungarian' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9 ._-]+$/)
  name!: string;

  @ApiProperty({ example: 86400, description: 'Seconds until the token expires' })
  @IsInt()
  @Min(60)
  @Max(30 * 86400)
  ttlSeconds!: number;
}
