import 'reflect-metadata';
import { IsBase64Bytes, IsIntInRange, IsNodeId, Required } from './validators';

/** coordinator -> node, unsealed: the node is admitted; carries the coordinator's X25519 key. */
export interface WelcomeBody {
  /** The id the coordinator knows this node by. */
  nodeId: string;
  /** base64 of the coordinator's 32-byte X25519 public key. */
  coordinatorEncryptionPublicKey: string;
  /** The envelope nonce of the Hello this answers (base64 of 16 bytes). */
  helloNonce: string;
  /** The largest frame the coordinator accepts; the node must not send bigger ones. */
  maxFrameBytes: number;
}

/** Validates a {@link WelcomeBody}. */
export class WelcomeBodyDto implements WelcomeBody {
  @Required()
  @IsNodeId()
  nodeId!: string;

  @Required()
  @IsBase64Bytes(32)
  coordinatorEncryptionPublicKey!: string;

  @Required()
  @IsBase64Bytes(16)
  helloNonce!: string;

  @Required()
  @IsIntInRange(1)
  maxFrameBytes!: number;
}
