/**
 * The real NestJS app on a real port with real socket.io-client sockets (after NestJS's own
 * gateway e2e samples): authentication over the gateway, refusals, the message limit, the REST API
 * and its OpenAPI description, and a restart on the same database file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, Socket } from 'socket.io-client';
import { Events, HelloBody, MessageKind, PROTOCOL_VERSION, WelcomeBody, EnvelopeCodec } from '@medfed/protocol';
import { generateIdentity, toBase64, Identity } from '@medfed/crypto';
import { MemoryLogger } from '@medfed/coordinator-core';
import { tinyStudySpec } from '@medfed/coordinator-core/testing';
import { bootstrapCoordinator, RunningCoordinator } from './bootstrap-coordinator';
import { initCoordinator, InitializedCoordinator } from './init-coordinator';
import { loadCoordinatorConfig } from './coordinator-config';
import { AdminClient, AdminApiError } from './admin-client';

function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
  });
}

function next(socket: Socket, event: string, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: Buffer) => {
      clearTimeout(timer);
      resolve(Buffer.from(payload));
    });
  });
}

function hello(node: Identity, coordinatorKey: Uint8Array): Buffer {
  const codec = new EnvelopeCodec({ identity: node, maxFrameBytes: 1 << 20 });
  return codec.encode<HelloBody>({
    kind: MessageKind.Hello,
    recipient: { signingPublicKey: coordinatorKey },
    body: { nodeName: 'gateway-test', encryptionPublicKey: toBase64(node.encryption.publicKey), softwareVersion: 'test', backend: 'cpu', protocolVersion: PROTOCOL_VERSION },
    seal: false,
  });
}

describe('coordinator app (NestJS + Socket.IO)', () => {
  let dir: string;
  let init: InitializedCoordinator;
  let running: RunningCoordinator;
  let admin: AdminClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-gateway-'));
    init = initCoordinator(join(dir, 'c'), { port: 0, maxFrameBytes: 64 * 1024 });
    running = await bootstrapCoordinator(loadCoordinatorConfig(init.configPath), { logger: new MemoryLogger() });
    admin = new AdminClient(running.url, init.adminToken);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('welcomes an enrolled node with a Welcome signed by the coordinator that answers its Hello', async () => {
    const node = generateIdentity();
    await admin.enrolNode({ name: 'gateway-test', signingPublicKey: toBase64(node.signing.publicKey) });
    const socket = await connect(running.url);
    sockets.push(socket);
    const frame = hello(node, running.identity.signing.publicKey);
    const welcome = next(socket, Events.Welcome);
    socket.emit(Events.Hello, frame);
    const codec = new EnvelopeCodec({ identity: node, maxFrameBytes: 1 << 20 });
    const opened = codec.decode<WelcomeBody>(await welcome, { isKnownSender: (s) => s === init.signingPublicKey });
    expect(opened.body.coordinatorEncryptionPublicKey).toBe(toBase64(running.identity.encryption.publicKey));
    expect(opened.body.maxFrameBytes).toBe(64 * 1024);
    const nodes = await admin.listNodes();
    expect(nodes.find((n) => n.name === 'gateway-test')).toMatchObject({ connected: true, encryptionPublicKey: toBase64(node.encryption.publicKey) });
  });

  it('answers garbage and unknown keys with a named error and keeps serving', async () => {
    const socket = await connect(running.url);
    sockets.push(socket);
    const first = next(socket, Events.ConnectionError);
    socket.emit(Events.Hello, Buffer.from([1, 2, 3]));
    expect(JSON.parse((await first).toString('utf8'))).toMatchObject({ code: 'MALFORMED' });
    const second = next(socket, Events.ConnectionError);
    socket.emit(Events.Hello, hello(generateIdentity(), running.identity.signing.publicKey));
    expect(JSON.parse((await second).toString('utf8'))).toMatchObject({ code: 'NOT_ENROLLED' });
    const third = next(socket, Events.ConnectionError);
    socket.emit(Events.Hello, { not: 'a buffer' });
    expect(JSON.parse((await third).toString('utf8'))).toMatchObject({ code: 'MALFORMED' });
    expect((await admin.health())['status']).toBe('ok');
  });

  it('closes a connection that sends more than the configured message limit, and the server stays up', async () => {
    const socket = await connect(running.url);
    const closed = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
    socket.emit(Events.TrainResult, Buffer.alloc(200 * 1024));
    expect(await closed).toBe('transport close');
    const again = await connect(running.url);
    sockets.push(again);
    expect(again.connected).toBe(true);
  });

  it('requires the operator token on the REST API, validates study specs and serves OpenAPI', async () => {
    await expect(new AdminClient(running.url, 'wrong-token-wrong-token').listStudies()).rejects.toMatchObject({ status: 401 });
    const bad = await admin.createStudy({ ...tinyStudySpec(), rounds: 0, model: { family: 'transformer', inputDim: 2 } } as never).catch((e: AdminApiError) => e);
    expect(bad).toBeInstanceOf(AdminApiError);
    expect((bad as AdminApiError).status).toBe(400);
    expect((bad as AdminApiError).message).toMatch(/rounds/);
    expect((bad as AdminApiError).message).toMatch(/family/);
    const openapi = (await (await fetch(`${running.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/studies', '/api/studies/{id}/launch', '/api/nodes', '/api/health']));
  });

  it('serves its audit log to the privacy-officer role only, and it verifies', async () => {
    const get = (path: string, token: string) => fetch(`${running.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get('/api/audit/log', init.adminToken)).status).toBe(401);
    expect((await get('/api/studies', init.privacyOfficerToken)).status).toBe(401);
    const log = (await (await get('/api/audit/log', init.privacyOfficerToken)).json()) as { event: string }[];
    expect(log[0].event).toBe('coordinator.started');
    expect(log.map((e) => e.event)).toContain('enrolment');
    expect(await (await get('/api/audit/verify', init.privacyOfficerToken)).json()).toMatchObject({ ok: true, signer: init.signingPublicKey });
    const node = (await admin.listNodes()).find((n) => n.name === 'gateway-test');
    expect(await (await get(`/api/audit/sites/${node?.id}`, init.privacyOfficerToken)).json()).toMatchObject({ nodeId: node?.id, contributions: 0 });
  });

  it('remembers nodes, studies and model versions after a restart on the same database file', async () => {
    const study = await admin.createStudy(tinyStudySpec({ minSites: 1 }));
    await admin.launchStudy(study.id);
    await running.close();
    running = await bootstrapCoordinator(loadCoordinatorConfig(init.configPath), { logger: new MemoryLogger() });
    admin = new AdminClient(running.url, init.adminToken);
    expect((await admin.listNodes()).map((n) => n.name)).toContain('gateway-test');
    const status = await admin.studyStatus(study.id);
    expect(status.study.status).toBe('running');
    expect(status.modelVersions.map((m) => m.version)).toEqual([0]);
  });
});
