import { Body, Controller, Delete, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Coordinator } from '@medfed/coordinator-core';
import { NodeRecord, SiteEventRecord } from '@medfed/coordinator-store';
import { AdminTokenGuard } from './admin-token.guard';
import { CONNECTIONS, COORDINATOR } from './coordinator.tokens';
import { CreateEnrolmentTokenDto, EnrolNodeDto } from './nodes.dto';
import { SocketConnectionRegistry } from './socket-connection.registry';

/** Enrolment of hospital nodes: the allow-list, one-time tokens, revocation. */
@ApiTags('nodes')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api')
export class NodesController {
  constructor(
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    @Inject(CONNECTIONS) private readonly connections: SocketConnectionRegistry,
  ) {}

  @Get('nodes')
  @ApiOperation({ summary: 'List enrolled and revoked nodes, with whether each is connected now' })
  list(): (NodeRecord & { connected: boolean })[] {
    const connected = new Set(this.connections.connectedNodeIds());
    return this.coordinator.store.listNodes().map((n) => ({ ...n, connected: connected.has(n.id) }));
  }

  @Post('nodes')
  @ApiOperation({ summary: "Enrol a node's public keys (allow-list)" })
  enrol(@Body() dto: EnrolNodeDto): NodeRecord {
    return this.coordinator.enrolment.enrol(dto);
  }

  @Delete('nodes/:id')
  @ApiOperation({ summary: 'Revoke a node; its next message is refused' })
  revoke(@Param('id') id: string): NodeRecord {
    return this.coordinator.enrolment.revoke(id);
  }

  @Post('enrolment-tokens')
  @ApiOperation({ summary: 'Issue a one-time enrolment token (returned once, stored only as a hash)' })
  createToken(@Body() dto: CreateEnrolmentTokenDto): { token: string; expiresAt: number } {
    return this.coordinator.enrolment.createToken(dto.name, dto.ttlSeconds);
  }

  @Get('events')
  @ApiOperation({ summary: 'Refused messages, declined tasks and late answers, newest first' })
  events(): SiteEventRecord[] {
    return this.coordinator.store.listSiteEvents({ limit: 500 });
  }
}
