import type { DatasetName } from '@medfed/protocol';

import { heartDiseaseDataset, heartDiseaseStudy } from './heart-disease.dataset';
import type { DatasetDefinition, StudyDefinition } from './study-definition';
import { diabetesDataset } from './diabetes-treatment.dataset';
import { diabetesTreatmentStudy } from './diabetes-treatment.study';
import { physionetDataset } from './icu-mortality.dataset';
import { icuMortalityStudy } from './icu-mortality.study';
import { breastMnistDataset } from './breast-ultrasound.dataset';
import { breastUltrasoundStudy } from './breast-ultrasound.study';
import { tox21Dataset } from './tox21-gan.dataset';
import { tox21GanStudy } from './tox21-gan.study';

/** No study or data set is known under the requested name. */
export class UnknownStudyError extends Error {
  override readonly name = 'UnknownStudyError';
}

const DATASET_DEFINITIONS: readonly DatasetDefinition[] = [heartDiseaseDataset, diabetesDataset, physionetDataset, breastMnistDataset, tox21Dataset];
const STUDY_DEFINITIONS: readonly StudyDefinition[] = [heartDiseaseStudy, diabetesTreatmentStudy, icuMortalityStudy, breastUltrasoundStudy, tox21GanStudy];

/** The studies this build can run, by name. */
export function listStudies(): readonly StudyDefinition[] {
  return STUDY_DEFINITIONS;
}

/** @throws UnknownStudyError naming the known studies. */
export function studyDefinition(name: string): StudyDefinition {
  const study = STUDY_DEFINITIONS.find((s) => s.name === name);
  if (!study) throw new UnknownStudyError(`unknown study ${JSON.stringify(name)}; known: ${STUDY_DEFINITIONS.map((s) => s.name).join(', ')}`);
  return study;
}

/** @throws UnknownStudyError when no loader exists for `dataset`. */
export function datasetDefinition(dataset: DatasetName | string): DatasetDefinition {
  const definition = DATASET_DEFINITIONS.find((d) => d.dataset === dataset);
  if (!definition) throw new UnknownStudyError(`no loader for data set ${JSON.stringify(dataset)}; known: ${DATASET_DEFINITIONS.map((d) => d.dataset).join(', ')}`);
  return definition;
}
