import 'reflect-metadata';
import { IsBoolean, IsDefined, IsIn, ValidateIf } from 'class-validator';
import { MESSAGE_KINDS, MessageKind } from '../message-kind';
import { IsBase64Bytes, IsEpochMs, IsIntInRange, IsStudyId, Required } from './validators';

/**
 * The signed, cleartext header of every frame. It is also the AEAD associated data of a sealed
 * payload, so a sealed payload cannot be moved under another header.
 */
export interface EnvelopeHeader {
  /** Protocol version, {@link PROTOCOL_VERSION}. */
  v: number;
  kind: MessageKind;
  /** base64 of the sender's Ed25519 public key (32 bytes). */
  sender: string;
  /** base64 of the recipient's Ed25519 public key (32 bytes). */
  recipient: string;
  studyId: string | null;
  round: number | null;
  /** base64 of 16 random bytes; unique per sender within the replay window. */
  nonce: string;
  /** Sender's clock at sending, epoch ms. */
  sentAt: number;
  /** Whether the payload is sealed to the recipient's X25519 key. */
  sealed: boolean;
}

/** Envelope nonce length in bytes. */
export const NONCE_BYTES = 16;

/** Validates an {@link EnvelopeHeader}. */
export class EnvelopeHeaderDto implements EnvelopeHeader {
  @Required()
  @IsIntInRange(0, 65_535)
  v!: number;

  @Required()
  @IsIn(MESSAGE_KINDS)
  kind!: MessageKind;

  @Required()
  @IsBase64Bytes(32)
  sender!: string;

  @Required()
  @IsBase64Bytes(32)
  recipient!: string;

  // null when the message is not about a study (Hello, Welcome, Rejected).
  @ValidateIf((_o: object, value: unknown) => value !== null)
  @IsDefined({ message: '$property must be present (null when not about a study)' })
  @IsStudyId()
  studyId!: string | null;

  @ValidateIf((_o: object, value: unknown) => value !== null)
  @IsDefined({ message: '$property must be present (null when not about a round)' })
  @IsIntInRange(1)
  round!: number | null;

  @Required()
  @IsBase64Bytes(NONCE_BYTES)
  nonce!: string;

  @Required()
  @IsEpochMs()
  sentAt!: number;

  @Required()
  @IsBoolean()
  sealed!: boolean;
}
