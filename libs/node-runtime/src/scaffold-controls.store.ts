import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { WeightTensor, decodeTensors, encodeTensors } from '@medfed/protocol';

/**
 * SCAFFOLD's client control variate c_i for each study, kept in the node's state folder so a
 * restarted node continues with the c_i the coordinator's c already accounts for. A new c_i is
 * written only once the coordinator's receipt confirms it took the matching update.
 */
export class ScaffoldControlStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'scaffold');
  }

  /** c_i for a study, or null before the node's first SCAFFOLD round in it. */
  load(studyId: string): WeightTensor[] | null {
    const path = this.path(studyId);
    return existsSync(path) ? decodeTensors(readFileSync(path)) : null;
  }

  /** Replaces c_i atomically (write, then rename). */
  save(studyId: string, controls: readonly WeightTensor[]): void {
    mkdirSync(this.dir, { recursive: true });
    const path = this.path(studyId);
    writeFileSync(`${path}.tmp`, encodeTensors(controls), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  private path(studyId: string): string {
    // Study ids are validated by the protocol ([A-Za-z0-9_-]); this keeps them from naming other files regardless.
    return join(this.dir, `${studyId.replace(/[^A-Za-z0-9_-]/g, '_')}.bin`);
  }
}
