import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { Server, ServerOptions } from 'socket.io';

/**
 * Socket.IO with an explicit message limit instead of its silent 1 MB default: a node learns the
 * limit in its Welcome and refuses to send a larger frame, and the server closes a connection that
 * exceeds it rather than buffering it.
 */
export class MedfedIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly maxFrameBytes: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    // Headroom for Socket.IO's own framing around our binary frame.
    return super.createIOServer(port, { ...options, maxHttpBufferSize: this.maxFrameBytes + 64 * 1024 }) as Server;
  }
}
