import { DynamicModule, Module } from '@nestjs/common';
import { Coordinator, CoordinatorLogger } from '@medfed/coordinator-core';
import { Identity } from '@medfed/crypto';
import { CoordinatorConfig } from './coordinator-config';
import { CONNECTIONS, COORDINATOR, COORDINATOR_CONFIG, COORDINATOR_IDENTITY, COORDINATOR_LOGGER } from './coordinator.tokens';
import { AuditController } from './audit.controller';
import { HealthController } from './health.controller';
import { NodesController } from './nodes.controller';
import { NodesGateway } from './nodes.gateway';
import { SocketConnectionRegistry } from './socket-connection.registry';
import { StudiesController } from './studies.controller';

/** The pieces bootstrap builds before Nest starts, handed to the module as values. */
export interface CoordinatorRuntime {
  config: CoordinatorConfig;
  identity: Identity;
  coordinator: Coordinator;
  connections: SocketConnectionRegistry;
  logger: CoordinatorLogger;
}

/** The coordinator's NestJS module: the node gateway and the operator REST API. */
@Module({})
export class CoordinatorModule {
  static forRuntime(runtime: CoordinatorRuntime): DynamicModule {
    return {
      module: CoordinatorModule,
      controllers: [HealthController, NodesController, StudiesController, AuditController],
      providers: [
        { provide: COORDINATOR_CONFIG, useValue: runtime.config },
        { provide: COORDINATOR_IDENTITY, useValue: runtime.identity },
        { provide: COORDINATOR, useValue: runtime.coordinator },
        { provide: CONNECTIONS, useValue: runtime.connections },
        { provide: COORDINATOR_LOGGER, useValue: runtime.logger },
        NodesGateway,
      ],
    };
  }
}
