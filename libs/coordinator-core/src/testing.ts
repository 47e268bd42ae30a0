import {
  EnvelopeCodec,
  Events,
  HelloBody,
  MessageKind,
  OpenedMessage,
  PROTOCOL_VERSION,
  StudySpec,
  WeightTensor,
  kindForEvent,
  mustBeSealed,
} from '@medfed/protocol';
import { Identity, generateIdentity, toBase64 } from '@medfed/crypto';
import { ConnectionContext, ConnectionRegistry } from './connection-registry';

/** A transport double: records every frame the coordinator emits, per node. */
export class RecordingConnections implements ConnectionRegistry {
  readonly connected = new Set<string>();
  readonly sent: { nodeId: string; event: string; frame: Buffer }[] = [];

  emit(nodeId: string, event: string, frame: Buffer): boolean {
    if (!this.connected.has(nodeId)) return false;
    this.sent.push({ nodeId, event, frame });
    return true;
  }

  connectedNodeIds(): string[] {
    return [...this.connected];
  }

  /** Frames sent to a node with the given event, oldest first. */
  to(nodeId: string, event: string): Buffer[] {
    return this.sent.filter((s) => s.nodeId === nodeId && s.event === event).map((s) => s.frame);
  }
}

/**
 * A simulated hospital for coordinator tests: its own identity and codec, so it can open the
 * tasks sealed to it and answer with correctly signed and sealed frames (or deliberately bad ones).
 */
export class TestSite {
  readonly identity: Identity = generateIdentity();
  readonly codec: EnvelopeCodec;
  nodeId: string | null = null;
  readonly replies: { event: string; frame: Buffer }[] = [];
  readonly ctx: ConnectionContext;

  constructor(
    readonly name: string,
    private readonly coordinatorIdentity: Identity,
    private readonly connections: RecordingConnections,
  ) {
    this.codec = new EnvelopeCodec({ identity: this.identity, maxFrameBytes: 1 << 24 });
    let nodeId: string | null = null;
    this.ctx = {
      connectionId: `socket-${name}`,
      get nodeId() {
        return nodeId;
      },
      set nodeId(v: string | null) {
        nodeId = v;
      },
      reply: (event, frame) => this.replies.push({ event, frame }),
      authenticated: (id) => {
        this.nodeId = id;
        this.connections.connected.add(id);
      },
    };
  }

  get signingPublicKey(): string {
    return toBase64(this.identity.signing.publicKey);
  }

  get encryptionPublicKey(): string {
    return toBase64(this.identity.encryption.publicKey);
  }

  hello(enrolmentToken?: string): Buffer {
    return this.codec.encode<HelloBody>({
      kind: MessageKind.Hello,
      recipient: { signingPublicKey: this.coordinatorIdentity.signing.publicKey },
      body: {
        nodeName: this.name,
        encryptionPublicKey: this.encryptionPublicKey,
        softwareVersion: 'test',
        backend: 'cpu',
        protocolVersion: PROTOCOL_VERSION,
        ...(enrolmentToken ? { enrolmentToken } : {}),
      },
      seal: false,
    });
  }

  /** Encodes a message to the coordinator (sealed when the kind requires it). */
  frame<B>(kind: MessageKind, body: B, tensors?: WeightTensor[], seal = mustBeSealed(kind)): Buffer {
    return this.codec.encode<B>({
      kind,
      recipient: { signingPublicKey: this.coordinatorIdentity.signing.publicKey, encryptionPublicKey: this.coordinatorIdentity.encryption.publicKey },
      body,
      tensors,
      seal,
    });
  }

  /** Opens a frame the coordinator sent to this site. */
  open<B>(frame: Buffer): OpenedMessage<B> {
    const coordinatorKey = toBase64(this.coordinatorIdentity.signing.publicKey);
    return this.codec.decode<B>(frame, { isKnownSender: (s) => s === coordinatorKey });
  }

  /** The Rejected codes and connection-error codes this site has received. */
  refusals(connections: RecordingConnections): string[] {
    const codes: string[] = [];
    for (const r of this.replies) {
      if (r.event === Events.ConnectionError) codes.push((JSON.parse(r.frame.toString('utf8')) as { code: string }).code);
    }
    if (this.nodeId) {
      for (const frame of connections.to(this.nodeId, Events.Rejected)) codes.push(this.open<{ code: string }>(frame).body.code);
    }
    return codes;
  }
}

/** A small valid study over a 2-feature logistic regression, for engine tests. */
export function tinyStudySpec(overrides: Partial<StudySpec> = {}): StudySpec {
  return {
    name: 'engine test',
    dataset: 'fed-heart-disease',
    model: { family: 'logistic-regression', inputDim: 2 },
    training: { localSteps: 1, batchSize: 4, learningRate: 0.1, optimizer: 'sgd', l2: 0, proximalMu: 0 },
    strategy: 'fedavg',
    rounds: 2,
    minSites: 2,
    roundTimeoutSeconds: 30,
    seed: 1,
    ...overrides,
  };
}

/** Initial weights of the tiny study: kernel [2,1] and bias [1], all zero. */
export function tinyInitialWeights(): WeightTensor[] {
  return [
    { shape: [2, 1], data: new Float32Array([0, 0]) },
    { shape: [1], data: new Float32Array([0]) },
  ];
}

export { kindForEvent };
