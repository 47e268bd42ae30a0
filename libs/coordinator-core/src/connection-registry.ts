/**
 * Which enrolled nodes are connected right now, and how to reach them. The transport (the NestJS
 * Socket.IO gateway, or a test double) owns the sockets; the core only sees node ids and frames.
 */
export interface ConnectionRegistry {
  /** Sends a frame to the node's live connection; false when the node is not connected. */
  emit(nodeId: string, event: string, frame: Buffer): boolean;
  /** Ids of the authenticated nodes connected now. */
  connectedNodeIds(): string[];
}

/** One socket's view, handed to the frame handler with every inbound frame. */
export interface ConnectionContext {
  /** Transport-level id of the socket (not a node id). */
  readonly connectionId: string;
  /** The node this socket authenticated as, once its Hello was accepted. */
  nodeId: string | null;
  /** Sends a frame back on this socket, authenticated or not. */
  reply(event: string, frame: Buffer): void;
  /** Called once the socket proved it holds an enrolled node's key; the transport routes to it from now on. */
  authenticated(nodeId: string): void;
}
