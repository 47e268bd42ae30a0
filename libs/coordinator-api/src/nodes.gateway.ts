import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { Socket } from 'socket.io';
import { Events } from '@medfed/protocol';
import { ConnectionContext, Coordinator, CoordinatorLogger } from '@medfed/coordinator-core';
import { CONNECTIONS, COORDINATOR, COORDINATOR_LOGGER } from './coordinator.tokens';
import { SocketConnectionRegistry } from './socket-connection.registry';

/**
 * Where hospital nodes connect. Handlers are thin: every frame goes to the coordinator's frame
 * handler, which verifies, routes and answers; nothing here parses a payload. The Socket.IO
 * message limit is set by the IoAdapter from the config (see medfed-io.adapter.ts).
 */
@WebSocketGateway()
export class NodesGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    @Inject(CONNECTIONS) private readonly connections: SocketConnectionRegistry,
    @Inject(COORDINATOR_LOGGER) private readonly logger: CoordinatorLogger,
  ) {}

  handleConnection(socket: Socket): void {
    this.logger.info('socket.connected', { connectionId: socket.id });
  }

  handleDisconnect(socket: Socket): void {
    const nodeId = this.connections.unbind(socket);
    this.logger.info('socket.disconnected', { connectionId: socket.id, nodeId });
  }

  @SubscribeMessage(Events.Hello)
  onHello(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.Hello, frame);
  }

  @SubscribeMessage(Events.TrainResult)
  onTrainResult(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.TrainResult, frame);
  }

  @SubscribeMessage(Events.EvaluateResult)
  onEvaluateResult(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.EvaluateResult, frame);
  }

  @SubscribeMessage(Events.StatisticsResult)
  onStatisticsResult(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.StatisticsResult, frame);
  }

  @SubscribeMessage(Events.SecAggUp)
  onSecAggUp(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.SecAggUp, frame);
  }

  @SubscribeMessage(Events.TaskDeclined)
  onTaskDeclined(@ConnectedSocket() socket: Socket, @MessageBody() frame: unknown): void {
    this.coordinator.frames.handle(this.context(socket), Events.TaskDeclined, frame);
  }

  /** The node id a socket authenticated as lives in socket.data, so it survives between frames. */
  private context(socket: Socket): ConnectionContext {
    const data = socket.data as { nodeId?: string | null };
    const connections = this.connections;
    return {
      connectionId: socket.id,
      get nodeId(): string | null {
        return data.nodeId ?? null;
      },
      set nodeId(value: string | null) {
        data.nodeId = value;
      },
      reply: (event, frame) => socket.emit(event, frame),
      authenticated: (nodeId) => connections.bind(nodeId, socket),
    };
  }
}
