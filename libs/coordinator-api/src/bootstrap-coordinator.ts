import 'reflect-metadata';
import { INestApplication, LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AddressInfo } from 'node:net';
import { Coordinator, CoordinatorLogger, JsonLinesLogger, faultPointFromEnv } from '@medfed/coordinator-core';
import { CoordinatorStore, openSqliteStore } from '@medfed/coordinator-store';
import { Identity, loadIdentity } from '@medfed/crypto';
import { AuditLog } from '@medfed/audit';
import { BackendInfo, createModel, initBackend } from '@medfed/models';
import { CoordinatorConfig } from './coordinator-config';
import { CoordinatorModule } from './coordinator.module';
import { DomainExceptionFilter } from './domain-exception.filter';
import { MedfedIoAdapter } from './medfed-io.adapter';
import { SocketConnectionRegistry } from './socket-connection.registry';

/** A coordinator that is listening, and how to stop it. */
export interface RunningCoordinator {
  app: INestApplication;
  coordinator: Coordinator;
  store: CoordinatorStore;
  identity: Identity;
  /** http://host:port that nodes and operators use. */
  url: string;
  backend: BackendInfo;
  /** The coordinator's own audit log. */
  auditLogPath: string;
  close(): Promise<void>;
}

/** Extra knobs for embedding (demo, tests). */
export interface BootstrapOptions {
  logger?: CoordinatorLogger;
  /** Nest's own framework logging; off by default so the JSON log stays one format. */
  nestLogLevels?: LogLevel[] | false;
  dispatchRetryMs?: number;
}

/**
 * Starts a coordinator from its config: opens the store, loads the identity, builds the domain,
 * serves the Socket.IO gateway and the REST API (OpenAPI at /api/docs and /api/openapi.json), and
 * resumes any running study.
 */
export async function bootstrapCoordinator(config: CoordinatorConfig, options: BootstrapOptions = {}): Promise<RunningCoordinator> {
  const logger = options.logger ?? new JsonLinesLogger('coordinator');
  // The coordinator only initialises models; the plain CPU backend avoids loading WebAssembly for that.
  const backend = await initBackend('cpu');
  const identity = loadIdentity(config.identityFile);
  const store = openSqliteStore(config.databasePath);
  const audit = AuditLog.open(config.auditLogPath, identity);
  audit.append('coordinator.started', { backend: backend.name, maxFrameBytes: config.maxFrameBytes });
  const connections = new SocketConnectionRegistry();
  const coordinator = new Coordinator({
    store,
    identity,
    connections,
    logger,
    audit,
    maxFrameBytes: config.maxFrameBytes,
    maxSkewMs: config.maxSkewMs,
    dispatchRetryMs: options.dispatchRetryMs,
    faultPoint: faultPointFromEnv(),
    initialWeights: (spec, seed) => {
      const model = createModel(spec, seed);
      try {
        return model.getWeights();
      } finally {
        model.dispose();
      }
    },
  });
  const app = await NestFactory.create(CoordinatorModule.forRuntime({ config, identity, coordinator, connections, logger }), {
    logger: options.nestLogLevels ?? false,
  });
  app.useWebSocketAdapter(new MedfedIoAdapter(app, config.maxFrameBytes));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new DomainExceptionFilter());
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('medfed coordinator')
      .setDescription('Operator API of the medfed coordinator: nodes, enrolment, studies, rounds and model versions.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json' });
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  coordinator.start();
  logger.info('coordinator.started', { url, backend: backend.name, database: config.databasePath, maxFrameBytes: config.maxFrameBytes });
  let closed = false;
  return {
    app,
    coordinator,
    store,
    identity,
    url,
    backend,
    auditLogPath: audit.path,
    close: async () => {
      if (closed) return;
      closed = true;
      coordinator.shutdown();
      await app.close();
      store.close();
      audit.append('coordinator.stopped', {});
      audit.close();
      logger.info('coordinator.stopped', {});
    },
  };
}

/** Runs a coordinator as a process until SIGINT/SIGTERM, then closes it cleanly (store included). */
export async function runCoordinatorProcess(config: CoordinatorConfig): Promise<RunningCoordinator> {
  const running = await bootstrapCoordinator(config);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return running;
}
