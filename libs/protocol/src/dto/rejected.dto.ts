import 'reflect-metadata';
import { IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsBase64Bytes, OptionalField, Required } from './validators';

/** coordinator -> node, unsealed: a message was refused. Names the problem; never echoes the message. */
export interface RejectedBody {
  /** Machine-readable code, e.g. a ProtocolErrorCode: 1-64 chars of [A-Z_]. */
  code: string;
  /** Human-readable explanation, at most 500 chars. */
  message: string;
  /** Envelope nonce of the refused frame (base64 of 16 bytes), when it could be read. */
  refersToNonce?: string;
}

/** Validates a {@link RejectedBody}. */
export class RejectedBodyDto implements RejectedBody {
  @Required()
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Z_]+$/, { message: '$property must match [A-Z_]+' })
  code!: string;

  @Required()
  @IsString()
  @MaxLength(500)
  message!: string;

  @OptionalField()
  @IsBase64Bytes(16)
  refersToNonce?: string;
}
