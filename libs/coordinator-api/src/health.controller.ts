import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { toBase64, keyFingerprint, Identity } from '@medfed/crypto';
import { PROTOCOL_VERSION } from '@medfed/protocol';
import { CONNECTIONS, COORDINATOR_IDENTITY } from './coordinator.tokens';
import { SocketConnectionRegistry } from './socket-connection.registry';

/** Unauthenticated liveness and the coordinator's public identity (what nodes pin). */
@ApiTags('health')
@Controller('api')
export class HealthController {
  constructor(
    @Inject(CONNECTIONS) private readonly connections: SocketConnectionRegistry,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: Identity,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness, protocol version, public keys and number of connected nodes' })
  health(): Record<string, unknown> {
    return {
      status: 'ok',
      protocolVersion: PROTOCOL_VERSION,
      signingPublicKey: toBase64(this.identity.signing.publicKey),
      encryptionPublicKey: toBase64(this.identity.encryption.publicKey),
      fingerprint: keyFingerprint(this.identity.signing.publicKey),
      connectedNodes: this.connections.connectedNodeIds().length,
    };
  }
}
