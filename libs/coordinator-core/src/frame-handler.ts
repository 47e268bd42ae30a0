import {
  EnvelopeCodec,
  EvaluateResultBody,
  Events,
  HelloBody,
  MessageKind,
  OpenedMessage,
  ProtocolError,
  ReceiptBody,
  RejectedBody,
  SecAggStepBody,
  SecAggUpStep,
  StatisticsResultBody,
  TaskDeclinedBody,
  TrainResultBody,
  WelcomeBody,
  kindForEvent,
} from '@medfed/protocol';
import { Identity, fromBase64, toBase64 } from '@medfed/crypto';
import { CoordinatorStore, NodeRecord } from '@medfed/coordinator-store';
import { ConnectionContext } from './connection-registry';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { EnrolmentService } from './enrolment.service';
import { Messenger } from './messenger';
import { RoundEngine } from './round-engine';
import { AuditSink } from '@medfed/audit';

/** The kinds a node may send, and the only ones the coordinator will decode. */
const NODE_KINDS: readonly MessageKind[] = [
  MessageKind.Hello,
  MessageKind.TrainResult,
  MessageKind.EvaluateResult,
  MessageKind.TaskDeclined,
  MessageKind.SecAggUp,
  MessageKind.StatisticsResult,
];

/**
 * Every inbound frame passes here: decode and verify (protocol), authenticate (enrolment), route
 * to the round engine, answer with a signed receipt — or refuse with a named error that is logged,
 * recorded as a site event and sent back to the sender. Nothing thrown here escapes to the socket.
 */
export class FrameHandler {
  constructor(
    private readonly codec: EnvelopeCodec,
    private readonly identity: Identity,
    private readonly store: CoordinatorStore,
    private readonly enrolment: EnrolmentService,
    private readonly engine: RoundEngine,
    private readonly messenger: Messenger,
    private readonly logger: CoordinatorLogger,
    private readonly maxFrameBytes: number,
    private readonly now: () => number = Date.now,
    private readonly audit: AuditSink | null = null,
  ) {}

  /** Handles one frame from one socket. Never throws. */
  handle(ctx: ConnectionContext, event: string, frame: unknown): void {
    try {
      const kind = kindForEvent(event);
      if (!kind || !NODE_KINDS.includes(kind)) {
        throw new ProtocolError('UNEXPECTED_KIND', `event ${JSON.stringify(event.slice(0, 64))} is not one a node may send`);
      }
      if (kind === MessageKind.Hello) {
        this.onHello(ctx, frame);
        return;
      }
      const node = this.authenticatedNode(ctx);
      const opened = this.codec.decode(frame, {
        isKnownSender: (sender) => sender === node.signingPublicKey,
        expectKinds: [kind],
      });
      this.route(node, opened);
    } catch (err) {
      this.refuse(ctx, err);
    }
  }

  private onHello(ctx: ConnectionContext, frame: unknown): void {
    // Any key may say hello; whether it is enrolled is decided from the verified header below.
    const opened = this.codec.decode<HelloBody>(frame, { isKnownSender: () => true, expectKinds: [MessageKind.Hello] });
    const body = opened.body;
    let node = this.store.getNodeBySigningKey(opened.header.sender);
    if (!node && body.enrolmentToken) {
      node = this.enrolment.enrolWithToken(body.enrolmentToken, body.nodeName, opened.header.sender, body.encryptionPublicKey);
    }
    if (!node || node.status !== 'enrolled') {
      throw new CoordinatorError('NOT_ENROLLED', `key ${opened.header.sender.slice(0, 12)}… is not enrolled at this coordinator`);
    }
    this.store.touchNode(node.id, this.now(), body.encryptionPublicKey);
    ctx.nodeId = node.id;
    ctx.authenticated(node.id);
    const welcome = this.codec.encode<WelcomeBody>({
      kind: MessageKind.Welcome,
      recipient: { signingPublicKey: fromBase64(node.signingPublicKey) },
      body: {
        nodeId: node.id,
        coordinatorEncryptionPublicKey: toBase64(this.identity.encryption.publicKey),
        helloNonce: opened.header.nonce,
        maxFrameBytes: this.maxFrameBytes,
      },
      seal: false,
    });
    ctx.reply(Events.Welcome, welcome);
    this.logger.info('node.connected', {
      nodeId: node.id,
      name: node.name,
      backend: body.backend,
      softwareVersion: body.softwareVersion,
      connectionId: ctx.connectionId,
    });
    this.engine.onNodeConnected(node.id);
  }

  private authenticatedNode(ctx: ConnectionContext): NodeRecord {
    if (!ctx.nodeId) throw new CoordinatorError('NOT_AUTHENTICATED', 'say hello before sending anything else');
    const node = this.store.getNode(ctx.nodeId);
    if (!node || node.status !== 'enrolled') {
      throw new CoordinatorError('NOT_ENROLLED', `node ${ctx.nodeId} is no longer enrolled`);
    }
    return node;
  }

  private route(node: NodeRecord, opened: OpenedMessage): void {
    let receipt: ReceiptBody | null = null;
    switch (opened.header.kind) {
      case MessageKind.TrainResult:
        receipt = this.engine.onTrainResult(node.id, opened as OpenedMessage<TrainResultBody>);
        break;
      case MessageKind.EvaluateResult:
        receipt = this.engine.onEvaluateResult(node.id, opened as OpenedMessage<EvaluateResultBody>);
        break;
      case MessageKind.StatisticsResult:
        receipt = this.engine.onStatisticsResult(node.id, opened as OpenedMessage<StatisticsResultBody>);
        break;
      case MessageKind.SecAggUp:
        // Receipts for secure aggregation are issued when the sum is recovered, for the masked inputs that counted.
        this.engine.onSecAggUp(node.id, opened as OpenedMessage<SecAggStepBody<SecAggUpStep>>);
        return;
      case MessageKind.TaskDeclined: {
        const body = opened.body as TaskDeclinedBody;
        this.engine.onDeclined(node.id, body.studyId, body.round, body.reason);
        return;
      }
      default:
        throw new ProtocolError('UNEXPECTED_KIND', `a node may not send ${opened.header.kind}`);
    }
    this.logger.info('contribution.accepted', {
      nodeId: node.id,
      kind: opened.header.kind,
      studyId: receipt.studyId,
      round: receipt.round,
      bytes: opened.frameBytes,
      sha256: opened.frameSha256,
    });
    const sent = this.messenger.send<ReceiptBody>(node.id, MessageKind.Receipt, {
      studyId: receipt.studyId,
      round: receipt.round,
      body: receipt,
      seal: false,
    });
    // One entry per contribution: what arrived (its exact bytes' hash) and the receipt that vouches for it.
    this.audit?.append('contribution.accepted', {
      nodeId: node.id,
      kind: opened.header.kind,
      studyId: receipt.studyId,
      round: receipt.round,
      bytes: opened.frameBytes,
      sha256: opened.frameSha256,
      numExamples: receipt.numExamples,
      receiptBytes: sent.bytes,
    });
  }

  /** Logs, records and answers a refused frame; the sender learns the code, never more than it sent. */
  private refuse(ctx: ConnectionContext, err: unknown): void {
    const { code, message } = describe(err);
    if (code === 'INTERNAL') {
      this.logger.error('message.failed', { connectionId: ctx.connectionId, nodeId: ctx.nodeId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    } else {
      this.logger.warn('message.rejected', { connectionId: ctx.connectionId, nodeId: ctx.nodeId, code, message });
    }
    try {
      this.audit?.append('input.rejected', { nodeId: ctx.nodeId, code });
    } catch (auditErr) {
      this.logger.error('audit.write-failed', { error: auditErr instanceof Error ? auditErr.message : String(auditErr) });
    }
    try {
      this.store.addSiteEvent({ at: this.now(), nodeId: ctx.nodeId, kind: 'rejected', studyId: null, round: null, detail: `${code}: ${message}` });
    } catch (storeErr) {
      this.logger.error('site-event.write-failed', { error: storeErr instanceof Error ? storeErr.message : String(storeErr) });
    }
    const node = ctx.nodeId ? this.store.getNode(ctx.nodeId) : null;
    if (node && node.status === 'enrolled') {
      const body: RejectedBody = { code, message: message.slice(0, 500) };
      this.messenger.send<RejectedBody>(node.id, MessageKind.Rejected, { body, seal: false });
    } else {
      ctx.reply(Events.ConnectionError, Buffer.from(JSON.stringify({ code, message: message.slice(0, 500) })));
    }
  }
}

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof ProtocolError || err instanceof CoordinatorError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'the coordinator could not process this message; it has been logged' };
}
