import 'reflect-metadata';
import { IsString, Length, Matches } from 'class-validator';
import { IsBase64Bytes, IsIntInRange, IsShortLabel, OptionalField, Required } from './validators';

/** node -> coordinator, unsealed: who the node is and the X25519 key to seal tasks to. */
export interface HelloBody {
  /** Display name, 1-64 chars of [A-Za-z0-9 ._-]. */
  nodeName: string;
  /** The node's X25519 public key, base64 of 32 bytes. */
  encryptionPublicKey: string;
  softwareVersion: string;
  /** The training backend, e.g. `wasm`, `cpu`, `tensorflow`. */
  backend: string;
  /** The protocol version the node speaks. */
  protocolVersion: number;
  /** One-time enrolment token, sent only while the node's key is not yet on the allow-list. */
  enrolmentToken?: string;
}

/** Validates a {@link HelloBody}. */
export class HelloBodyDto implements HelloBody {
  @Required()
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9 ._-]+$/, { message: '$property must match [A-Za-z0-9 ._-]+' })
  nodeName!: string;

  @Required()
  @IsBase64Bytes(32)
  encryptionPublicKey!: string;

  @Required()
  @IsShortLabel(32)
  softwareVersion!: string;

  @Required()
  @IsShortLabel(32)
  backend!: string;

  @Required()
  @IsIntInRange(1, 65_535)
  protocolVersion!: number;

  @OptionalField()
  @IsString()
  @Length(16, 128)
  @Matches(/^[A-Za-z0-9+/=_-]+$/, { message: '$property must be a base64 token' })
  enrolmentToken?: string;
}
