import { StudySpec, validateStudySpec } from '@medfed/protocol';
import { randomBytes } from '@medfed/crypto';
import { CoordinatorStore, RoundRecord, StudyRecord, SiteEventRecord, ModelVersionRecord } from '@medfed/coordinator-store';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { RoundEngine } from './round-engine';

/** Everything an operator sees about one study. */
export interface StudyStatus {
  study: StudyRecord;
  rounds: RoundRecord[];
  modelVersions: Omit<ModelVersionRecord, 'weights'>[];
  events: SiteEventRecord[];
}

/** Creating, launching, stopping and describing studies. */
export class StudiesService {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly engine: RoundEngine,
    private readonly logger: CoordinatorLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Validates a study spec and stores it as a new, created study. */
  create(plainSpec: unknown): StudyRecord {
    const spec: StudySpec = validateStudySpec(plainSpec);
    const slug = spec.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'study';
    const id = `${slug}-${Buffer.from(randomBytes(3)).toString('hex')}`;
    const at = this.now();
    const record: StudyRecord = {
      id,
      spec,
      status: 'created',
      createdAt: at,
      updatedAt: at,
      currentRound: 0,
      latestModelVersion: null,
      failureReason: null,
    };
    this.store.createStudy(record);
    this.logger.info('study.created', { studyId: id, name: spec.name, rounds: spec.rounds });
    return record;
  }

  list(): StudyRecord[] {
    return this.store.listStudies();
  }

  launch(studyId: string): StudyRecord {
    return this.engine.launch(studyId);
  }

  stop(studyId: string): StudyRecord {
    return this.engine.stopStudy(studyId);
  }

  status(studyId: string): StudyStatus {
    const study = this.store.getStudy(studyId);
    if (!study) throw new CoordinatorError('UNKNOWN_STUDY', `no study with id ${studyId}`);
    return {
      study,
      rounds: this.store.listRounds(studyId),
      modelVersions: this.store.listModelVersions(studyId),
      events: this.store.listSiteEvents({ studyId, limit: 200 }),
    };
  }
}
