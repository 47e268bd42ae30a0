import { Socket } from 'socket.io';
import { ConnectionRegistry } from '@medfed/coordinator-core';

/** The live Socket.IO connection of each authenticated node. */
export class SocketConnectionRegistry implements ConnectionRegistry {
  private readonly sockets = new Map<string, Socket>();

  /** Routes `nodeId` to `socket`; an older socket of the same node is disconnected. */
  bind(nodeId: string, socket: Socket): void {
    const previous = this.sockets.get(nodeId);
    if (previous && previous.id !== socket.id) previous.disconnect(true);
    this.sockets.set(nodeId, socket);
  }

  /** Forgets `socket` if it is the one a node is routed to. */
  unbind(socket: Socket): string | null {
    for (const [nodeId, s] of this.sockets) {
      if (s.id === socket.id) {
        this.sockets.delete(nodeId);
        return nodeId;
      }
    }
    return null;
  }

  emit(nodeId: string, event: string, frame: Buffer): boolean {
    const socket = this.sockets.get(nodeId);
    if (!socket || !socket.connected) return false;
    socket.emit(event, frame);
    return true;
  }

  connectedNodeIds(): string[] {
    return [...this.sockets.entries()].filter(([, s]) => s.connected).map(([id]) => id);
  }
}
