import 'reflect-metadata';
import { IsIn } from 'class-validator';
import { MANIFEST_FORMAT, StudyManifest } from '../study-manifest';
import { NestedObject, StudySpecDto } from './study-spec.dto';
import { IsStudyId, Required } from './validators';

/** Validates a {@link StudyManifest} carried in a task. */
export class StudyManifestDto implements StudyManifest {
  @Required()
  @IsIn([MANIFEST_FORMAT])
  format!: typeof MANIFEST_FORMAT;

  @Required()
  @IsStudyId()
  studyId!: string;

  @NestedObject(() => StudySpecDto)
  spec!: StudySpecDto;
}
