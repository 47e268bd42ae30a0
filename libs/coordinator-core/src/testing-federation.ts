import { Events, WeightTensor } from '@medfed/protocol';
import { Identity } from '@medfed/crypto';
import { MemoryAuditSink } from '@medfed/audit/testing';
import { InMemoryStore } from '@medfed/coordinator-store';
import { Coordinator } from './coordinator';
import { MemoryLogger } from './coordinator-logger';
import { EngineEvent } from './round-engine';
import { RecordingConnections, TestSite, tinyInitialWeights } from './testing';

/** A coordinator over an in-memory store with the tiny model, and one enrolled, connected TestSite per name (tests only). */
export function setUpTestFederation(coordinatorIdentity: Identity, ...names: string[]): { coordinator: Coordinator; connections: RecordingConnections; sites: TestSite[] } {
  const connections = new RecordingConnections();
  const coordinator = new Coordinator({
    store: new InMemoryStore(),
    identity: coordinatorIdentity,
    connections,
    logger: new MemoryLogger(),
    audit: new MemoryAuditSink(),
    maxFrameBytes: 1 << 20,
    initialWeights: () => tinyInitialWeights(),
    dispatchRetryMs: 10,
    dispatchGraceMs: 0,
  });
  const sites = names.map((name) => {
    const site = new TestSite(name, coordinatorIdentity, connections);
    coordinator.enrolment.enrol({ name, signingPublicKey: site.signingPublicKey });
    coordinator.frames.handle(site.ctx, Events.Hello, site.hello());
    return site;
  });
  return { coordinator, connections, sites };
}

/** The first engine event matching `predicate`; rejects after `timeoutMs`. */
export function waitForEngineEvent(coordinator: Coordinator, predicate: (e: EngineEvent) => boolean, timeoutMs = 5000): Promise<EngineEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for an engine event')), timeoutMs);
    const on = (e: EngineEvent): void => {
      if (predicate(e)) {
        clearTimeout(timer);
        coordinator.engine.off('event', on);
        resolve(e);
      }
    };
    coordinator.engine.on('event', on);
  });
}

/** Opens the latest frame of `event` sent to `site` (a frame opens once: opening it again is refused as a replay). */
export function openLatest<T>(site: TestSite, connections: RecordingConnections, event: string): { body: T; tensors: WeightTensor[]; sealed: boolean } {
  const frames = connections.to(site.nodeId as string, event);
  const opened = site.open<T>(frames[frames.length - 1]);
  return { body: opened.body, tensors: opened.tensors, sealed: opened.header.sealed };
}
