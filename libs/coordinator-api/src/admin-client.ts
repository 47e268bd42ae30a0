import { StudySpec } from '@medfed/protocol';
import { NodeRecord, StudyRecord } from '@medfed/coordinator-store';
import type { StudyStatus } from '@medfed/coordinator-core';
import type { SignedManifest } from './studies.controller';

/** The REST API answered with an error; carries its status and code. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** A typed client of the coordinator's operator REST API (used by the CLI and the demo). */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  health(): Promise<Record<string, unknown>> {
    return this.request('GET', '/api/health');
  }

  listNodes(): Promise<(NodeRecord & { connected: boolean })[]> {
    return this.request('GET', '/api/nodes');
  }

  enrolNode(input: { name: string; signingPublicKey: string; encryptionPublicKey?: string }): Promise<NodeRecord> {
    return this.request('POST', '/api/nodes', input);
  }

  revokeNode(id: string): Promise<NodeRecord> {
    return this.request('DELETE', `/api/nodes/${encodeURIComponent(id)}`);
  }

  createEnrolmentToken(name: string, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    return this.request('POST', '/api/enrolment-tokens', { name, ttlSeconds });
  }

  listStudies(): Promise<StudyRecord[]> {
    return this.request('GET', '/api/studies');
  }

  createStudy(spec: StudySpec): Promise<StudyRecord> {
    return this.request('POST', '/api/studies', spec);
  }

  launchStudy(id: string): Promise<StudyRecord> {
    return this.request('POST', `/api/studies/${encodeURIComponent(id)}/launch`);
  }

  stopStudy(id: string): Promise<StudyRecord> {
    return this.request('POST', `/api/studies/${encodeURIComponent(id)}/stop`);
  }

  studyManifest(id: string): Promise<SignedManifest> {
    return this.request('GET', `/api/studies/${encodeURIComponent(id)}/manifest`);
  }

  resumeStudy(id: string): Promise<StudyRecord> {
    return this.request('POST', `/api/studies/${encodeURIComponent(id)}/resume`);
  }

  rollbackStudy(id: string, version: number): Promise<StudyRecord> {
    return this.request('POST', `/api/studies/${encodeURIComponent(id)}/rollback`, { version });
  }

  studyStatus(id: string): Promise<StudyStatus> {
    return this.request('GET', `/api/studies/${encodeURIComponent(id)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new AdminApiError(0, 'UNREACHABLE', `cannot reach the coordinator at ${this.baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      const obj = (parsed ?? {}) as { code?: string; message?: string | string[] };
      const message = Array.isArray(obj.message) ? obj.message.join('; ') : (obj.message ?? response.statusText);
      throw new AdminApiError(response.status, obj.code ?? String(response.status), `${method} ${path}: ${response.status} ${message}`);
    }
    return parsed as T;
  }
}
