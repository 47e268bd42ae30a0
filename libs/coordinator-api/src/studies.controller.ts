import { Body, Controller, Get, Header, Inject, Param, Post, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Coordinator, CoordinatorError, StudyStatus } from '@medfed/coordinator-core';
import { StudyRecord } from '@medfed/coordinator-store';
import { IsInt, Min } from 'class-validator';
import { AdminTokenGuard } from './admin-token.guard';

/** Body of a rollback: the model version to make current. */
export class RollbackDto {
  @IsInt()
  @Min(0)
  version!: number;
}
import { COORDINATOR, COORDINATOR_IDENTITY } from './coordinator.tokens';
import { Identity, defaultSigner, toBase64 } from '@medfed/crypto';
import { StudyManifest, manifestSha256, studyManifest } from '@medfed/protocol';

/** A manifest as the coordinator serves it: the hospital checks the signature with the pinned key before approving. */
export interface SignedManifest {
  manifest: StudyManifest;
  sha256: string;
  /** Ed25519 over the 32 bytes of the hash, by the coordinator's identity key. */
  signature: string;
  signer: string;
}

const STUDY_SPEC_SCHEMA = {
  type: 'object',
  required: ['name', 'dataset', 'model', 'training', 'strategy', 'rounds', 'minSites', 'roundTimeoutSeconds', 'seed'],
  properties: {
    name: { type: 'string', example: 'heart-disease-fedavg' },
    dataset: { type: 'string', enum: ['fed-heart-disease'] },
    model: {
      type: 'object',
      properties: { family: { type: 'string', enum: ['logistic-regression', 'mlp'] }, inputDim: { type: 'integer', example: 13 }, hidden: { type: 'array', items: { type: 'integer' } }, dropout: { type: 'number' } },
    },
    training: {
      type: 'object',
      properties: {
        localSteps: { type: 'integer', example: 100 },
        batchSize: { type: 'integer', example: 4 },
        learningRate: { type: 'number', example: 0.05 },
        optimizer: { type: 'string', enum: ['sgd', 'adam'] },
        l2: { type: 'number', example: 0 },
        proximalMu: { type: 'number', example: 0 },
      },
    },
    strategy: { type: 'string', enum: ['fedavg'] },
    rounds: { type: 'integer', example: 15 },
    minSites: { type: 'integer', example: 4 },
    roundTimeoutSeconds: { type: 'integer', example: 120 },
    seed: { type: 'integer', example: 42 },
  },
};

/**
 * Studies and their rounds. The spec is validated by the protocol lib's StudySpec rules (shared
 * with the CLI and the nodes), so a study the API accepts is one every node can parse.
 */
@ApiTags('studies')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/studies')
export class StudiesController {
  constructor(
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: Identity,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List studies' })
  list(): StudyRecord[] {
    return this.coordinator.studies.list();
  }

  @Post()
  @ApiOperation({ summary: 'Create a study from its spec' })
  @ApiBody({ schema: STUDY_SPEC_SCHEMA })
  create(@Body() spec: unknown): StudyRecord {
    return this.coordinator.studies.create(spec);
  }

  @Get(':id')
  @ApiOperation({ summary: "A study's state, rounds (with per-site participation and metrics), model versions and site events" })
  status(@Param('id') id: string): StudyStatus {
    return this.coordinator.studies.status(id);
  }

  @Post(':id/launch')
  @ApiOperation({ summary: 'Launch a created study: version 0 is saved and round 1 is dispatched when enough sites are connected' })
  launch(@Param('id') id: string): StudyRecord {
    return this.coordinator.studies.launch(id);
  }

  @Post(':id/stop')
  @ApiOperation({ summary: 'Stop a running study' })
  stop(@Param('id') id: string): StudyRecord {
    return this.coordinator.studies.stop(id);
  }

  @Get(':id/manifest')
  @ApiOperation({ summary: "The study's manifest (what each hospital approves), its SHA-256, and the coordinator's Ed25519 signature over that hash" })
  manifest(@Param('id') id: string): SignedManifest {
    const study = this.coordinator.studies.status(id).study;
    const manifest = studyManifest(study.id, study.spec);
    const sha256 = manifestSha256(manifest);
    const signature = toBase64(defaultSigner.sign(Buffer.from(sha256, 'hex'), this.identity.signing.secretKey));
    return { manifest, sha256, signature, signer: toBase64(this.identity.signing.publicKey) };
  }

  @Post(':id/resume')
  @ApiOperation({ summary: 'Resume a stopped study from where it stood' })
  resume(@Param('id') id: string): StudyRecord {
    return this.coordinator.studies.resume(id);
  }

  @Post(':id/rollback')
  @ApiOperation({ summary: 'Make a model version the current one (study not running): the next round starts from it' })
  @ApiBody({ schema: { type: 'object', required: ['version'], properties: { version: { type: 'integer', example: 3 } } } })
  rollback(@Param('id') id: string, @Body() body: RollbackDto): StudyRecord {
    return this.coordinator.studies.rollback(id, body.version);
  }

  @Get(':id/models/:version')
  @ApiOperation({ summary: 'Download a global model version as encoded weight tensors (see libs/protocol/README.md)' })
  @Header('Content-Type', 'application/octet-stream')
  model(@Param('id') id: string, @Param('version') version: string): StreamableFile {
    const record = this.coordinator.store.getModelVersion(id, Number(version));
    if (!record) throw new CoordinatorError('UNKNOWN_STUDY', `study ${id} has no model version ${version}`);
    return new StreamableFile(Buffer.from(record.weights));
  }
}
