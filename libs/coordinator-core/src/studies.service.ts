import { StudySpec, isGeneratorRound, validateStudySpec } from '@medfed/protocol';
import { randomBytes } from '@medfed/crypto';
import { modelFamily } from '@medfed/models';
import { CoordinatorStore, RoundRecord, StudyRecord, SiteEventRecord, ModelVersionRecord } from '@medfed/coordinator-store';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { RoundEngine } from './round-engine';
import { EvaluationMetrics, validationLossOf } from './round-metrics';

/** Everything an operator sees about one study. */
export interface StudyStatus {
  study: StudyRecord;
  rounds: RoundRecord[];
  modelVersions: Omit<ModelVersionRecord, 'weights'>[];
  /** The version with the lowest pooled evaluation loss, with that loss and accuracy; null before any evaluation. */
  /**
   * The version with the lowest pooled validation loss (test loss when the sites have no validation split); in a study
   * with a generator phase, once the phase has been evaluated, its last version (which keeps the chosen classifier).
   */
  bestModelVersion: {
    version: number;
    pooledMeanLoss: number;
    pooledAccuracy: number | null;
    selectionLoss: number;
    selectedOn: 'validation' | 'test' | 'generator-phase';
  } | null;
  events: SiteEventRecord[];
}

/** Families whose models hold a generator that can train alone (StudySpec.generatorPhase). */
const GENERATOR_FAMILIES: readonly string[] = ['cgan'];

/** Refuses an architecture its model family cannot build, before any site is asked to approve it. */
function checkModelFits(spec: StudySpec): void {
  try {
    modelFamily(spec.model.family).validate(spec.model);
  } catch (err) {
    throw new CoordinatorError('INVALID_STUDY', `model: ${(err as Error).message}`);
  }
  if (spec.generatorPhase && !GENERATOR_FAMILIES.includes(spec.model.family)) {
    throw new CoordinatorError('INVALID_STUDY', `generatorPhase: a ${spec.model.family} model has no generator to train alone (families with one: ${GENERATOR_FAMILIES.join(', ')})`);
  }
}

/** Refuses a spec whose strategy cannot do what it asks. */
function checkStrategyFits(spec: StudySpec): void {
  if (spec.strategy === 'fedprox' && spec.training.proximalMu <= 0) {
    throw new CoordinatorError('INVALID_STUDY', 'fedprox needs training.proximalMu > 0 (the proximal term μ the nodes add)');
  }
  if (spec.strategy === 'scaffold' && spec.training.optimizer !== 'sgd') {
    throw new CoordinatorError('INVALID_STUDY', `scaffold's control variates assume plain SGD locally; training.optimizer is ${spec.training.optimizer}`);
  }
  if (spec.dp && ['median', 'trimmed-mean', 'krum', 'scaffold'].includes(spec.strategy)) {
    throw new CoordinatorError('INVALID_STUDY', `differential privacy assumes an average of clipped updates; ${spec.strategy} is not one (SCAFFOLD's control variates would leave unclipped)`);
  }
  if (spec.secureAggregation && ['median', 'trimmed-mean', 'krum', 'scaffold'].includes(spec.strategy)) {
    throw new CoordinatorError(
      'INVALID_STUDY',
      `${spec.strategy} needs each site's individual update (or control variates), which secure aggregation hides by design; use fedavg, fedprox, fedadam, fedyogi or fedadagrad`,
    );
  }
  if (spec.secureAggregation && spec.minSites < 2) {
    throw new CoordinatorError('INVALID_STUDY', 'secure aggregation needs minSites of at least 2 (a sum of one site is that site\'s update)');
  }
  if (spec.strategy === 'krum' && spec.minSites <= 2 * (spec.strategyConfig?.byzantine ?? 0) + 2) {
    throw new CoordinatorError('INVALID_STUDY', `krum with f = ${spec.strategyConfig?.byzantine ?? 0} needs minSites > 2f + 2, got ${spec.minSites}`);
  }
}

/** Derived, not stored: the best version is a function of the evaluate rounds. */
function bestVersion(spec: StudySpec, rounds: readonly RoundRecord[]): StudyStatus['bestModelVersion'] {
  let best: StudyStatus['bestModelVersion'] = null;
  for (const r of rounds) {
    if (r.kind !== 'evaluate' || r.state !== 'completed' || !r.metrics) continue;
    const m = r.metrics as unknown as EvaluationMetrics;
    // Validation loss when the sites have a validation split (chosen without looking at test), else test loss.
    const validation = validationLossOf(r.metrics);
    const loss = validation ?? m.pooledMeanLoss;
    if (loss === null || loss === undefined) continue;
    if (isGeneratorRound(spec, r.round)) {
      // The generator phase started from the version chosen above and only trained its generator: its result wins.
      return { version: r.modelVersionIn, pooledMeanLoss: m.pooledMeanLoss ?? loss, pooledAccuracy: m.pooledAccuracy, selectionLoss: loss, selectedOn: 'generator-phase' };
    }
    if (!best || loss < best.selectionLoss) {
      best = { version: r.modelVersionIn, pooledMeanLoss: m.pooledMeanLoss ?? loss, pooledAccuracy: m.pooledAccuracy, selectionLoss: loss, selectedOn: validation === null ? 'test' : 'validation' };
    }
  }
  return best;
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
    checkStrategyFits(spec);
    checkModelFits(spec);
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
    const study = this.requireStudy(studyId);
    const rounds = this.store.listRounds(studyId);
    return {
      study,
      rounds,
      modelVersions: this.store.listModelVersions(studyId),
      bestModelVersion: bestVersion(study.spec, rounds),
      events: this.store.listSiteEvents({ studyId, limit: 200 }),
    };
  }

  /** Continues a stopped study from where it stood. */
  resume(studyId: string): StudyRecord {
    return this.engine.resumeStudy(studyId);
  }

  /**
   * Makes `version` the study's current model: the next train round starts from it, and it is the
   * model a completed study delivers. Allowed when the study is not running.
   */
  rollback(studyId: string, version: number): StudyRecord {
    const study = this.requireStudy(studyId);
    if (study.status === 'running') {
      throw new CoordinatorError('INVALID_STATE', `study ${studyId} is running; stop it before rolling back`);
    }
    if (!this.store.getModelVersion(studyId, version)) {
      throw new CoordinatorError('UNKNOWN_STUDY', `study ${studyId} has no model version ${version}`);
    }
    this.logger.warn('study.rolled-back', { studyId, from: study.latestModelVersion, to: version });
    return this.store.transaction(() => {
      // A round still open was computed from the version being abandoned: it ends here.
      for (const r of this.store.listRounds(studyId)) {
        if (r.state === 'collecting' || r.state === 'aggregating') {
          this.store.updateRound(studyId, r.round, r.kind, { state: 'failed', closedAt: this.now(), failureReason: `superseded by a rollback to model version ${version}` });
        }
      }
      return this.store.updateStudy(studyId, { latestModelVersion: version, updatedAt: this.now() });
    });
  }

  private requireStudy(studyId: string): StudyRecord {
    const study = this.store.getStudy(studyId);
    if (!study) throw new CoordinatorError('UNKNOWN_STUDY', `no study with id ${studyId}`);
    return study;
  }
}
