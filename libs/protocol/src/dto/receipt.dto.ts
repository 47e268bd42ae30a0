import 'reflect-metadata';
import { IsString, Matches } from 'class-validator';
import { IsEpochMs, IsIntInRange, IsNodeId, IsStudyId, Required } from './validators';

/** coordinator -> node, unsealed: a signed receipt for an accepted contribution. */
export interface ReceiptBody {
  studyId: string;
  round: number;
  nodeId: string;
  /** Lowercase hex SHA-256 of the whole accepted frame (OpenedMessage.frameSha256). */
  frameSha256: string;
  /** Examples the contribution was weighted by. */
  numExamples: number;
  receivedAt: number;
}

/** Validates a {@link ReceiptBody}. */
export class ReceiptBodyDto implements ReceiptBody {
  @Required()
  @IsStudyId()
  studyId!: string;

  @Required()
  @IsIntInRange(1)
  round!: number;

  @Required()
  @IsNodeId()
  nodeId!: string;

  @Required()
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: '$property must be 64 lowercase hex characters' })
  frameSha256!: string;

  @Required()
  @IsIntInRange(0)
  numExamples!: number;

  @Required()
  @IsEpochMs()
  receivedAt!: number;
}
