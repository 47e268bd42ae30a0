import { EnvelopeCodec, MessageKind, WeightTensor, eventForKind } from '@medfed/protocol';
import { fromBase64 } from '@medfed/crypto';
import { CoordinatorStore } from '@medfed/coordinator-store';
import { ConnectionRegistry } from './connection-registry';

/** What the messenger reports about one frame it sent. */
export interface SentFrame {
  nodeId: string;
  kind: MessageKind;
  bytes: number;
  delivered: boolean;
}

/**
 * Signs (and, for tasks, seals to the node's X25519 key) every message the coordinator sends to a
 * node, then hands the frame to the live connection. The keys come from the enrolment record, so a
 * message can only ever be opened by the node it is addressed to.
 */
export class Messenger {
  constructor(
    private readonly codec: EnvelopeCodec,
    private readonly store: CoordinatorStore,
    private readonly connections: ConnectionRegistry,
  ) {}

  /** Encodes `body` (+ tensors) for `nodeId` and emits it. Returns what was sent. */
  send<B>(
    nodeId: string,
    kind: MessageKind,
    msg: { studyId?: string; round?: number; body: B; tensors?: readonly WeightTensor[]; seal: boolean },
  ): SentFrame {
    const node = this.store.getNode(nodeId);
    if (!node || node.status !== 'enrolled') {
      return { nodeId, kind, bytes: 0, delivered: false };
    }
    if (msg.seal && !node.encryptionPublicKey) {
      // The node has never said hello: there is no key to seal to yet.
      return { nodeId, kind, bytes: 0, delivered: false };
    }
    const frame = this.codec.encode({
      kind,
      recipient: {
        signingPublicKey: fromBase64(node.signingPublicKey),
        encryptionPublicKey: node.encryptionPublicKey ? fromBase64(node.encryptionPublicKey) : undefined,
      },
      studyId: msg.studyId,
      round: msg.round,
      body: msg.body,
      tensors: msg.tensors,
      seal: msg.seal,
    });
    const delivered = this.connections.emit(nodeId, eventForKind(kind), frame);
    return { nodeId, kind, bytes: frame.length, delivered };
  }
}
