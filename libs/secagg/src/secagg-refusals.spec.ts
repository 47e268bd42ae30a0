import { SecAggClient } from './secagg.client';
import { SecAggServer } from './secagg.server';
import type { EncryptedShares, SecAggParams, UnmaskingShares } from './secagg.types';
import { seededRandomBytes } from './testing';

const SITES = ['a', 'b', 'c', 'd', 'e'];
const PARAMS: SecAggParams = { studyId: 'study-1', round: 4, siteIds: SITES, threshold: 3, vectorLength: 8, clipRange: 1, maxWeight: 100 };
const VECTOR = Float32Array.from({ length: 8 }, (_, i) => i / 10 - 0.3);

const code = (c: string) => expect.objectContaining({ name: 'SecAggError', code: c });

/** Five clients and a server driven through the first `upTo` steps. */
function setUp(upTo: 'advertised' | 'routed' | 'masked' | 'unmaskRequested', params: SecAggParams = PARAMS) {
  const server = new SecAggServer(params);
  const clients = new Map(SITES.map((id) => [id, new SecAggClient(params, id, seededRandomBytes(`refusals/${id}`))]));
  for (const client of clients.values()) server.collectAdvertise(client.advertiseKeys());
  const announced = server.advertisedKeys();
  if (upTo === 'advertised') return { server, clients, announced, routed: new Map<string, EncryptedShares[]>(), request: undefined };
  for (const client of clients.values()) server.collectShares(client.shareKeys(announced));
  const routed = server.routeShares();
  if (upTo === 'routed') return { server, clients, announced, routed, request: undefined };
  for (const [id, client] of clients) if (id !== 'e') server.collectMasked(client.maskedInput(VECTOR, 10, routed.get(id) ?? []));
  if (upTo === 'masked') return { server, clients, announced, routed, request: undefined };
  const request = server.unmaskRequest();
  return { server, clients, announced, routed, request };
}

describe('SecAgg refuses messages for another round or study (WRONG_ROUND)', () => {
  it('server: keys advertised for another round or study', () => {
    const server = new SecAggServer(PARAMS);
    const advert = new SecAggClient(PARAMS, 'a', seededRandomBytes('wr/a')).advertiseKeys();
    expect(() => server.collectAdvertise({ ...advert, round: 5 })).toThrow(code('WRONG_ROUND'));
    expect(() => server.collectAdvertise({ ...advert, studyId: 'study-2' })).toThrow(code('WRONG_ROUND'));
    expect(() => server.collectAdvertise(advert)).not.toThrow();
  });

  it('server: a shares batch holding a share for the previous round', () => {
    const { server, clients, announced } = setUp('advertised');
    const batch = (clients.get('b') as SecAggClient).shareKeys(announced);
    const stale = batch.map((m, i) => (i === 1 ? { ...m, round: 3 } : m));
    expect(() => server.collectShares(stale)).toThrow(code('WRONG_ROUND'));
  });

  it('client: a routed share relabelled for another round or study', () => {
    const { clients, routed } = setUp('routed');
    const mine = routed.get('c') as EncryptedShares[];
    const client = clients.get('c') as SecAggClient;
    expect(() => client.maskedInput(VECTOR, 10, [{ ...mine[0], round: 5 }, ...mine.slice(1)])).toThrow(code('WRONG_ROUND'));
    const other = setUp('routed');
    const theirs = other.routed.get('c') as EncryptedShares[];
    expect(() => (other.clients.get('c') as SecAggClient).maskedInput(VECTOR, 10, [{ ...theirs[0], studyId: 'x' }])).toThrow(code('WRONG_ROUND'));
  });

  it('client: an advertised-keys list from another round', () => {
    const { clients, announced } = setUp('advertised');
    expect(() => (clients.get('a') as SecAggClient).shareKeys(announced.map((m) => ({ ...m, round: 99 })))).toThrow(code('WRONG_ROUND'));
  });
});

describe('SecAgg refuses duplicated messages (DUPLICATE)', () => {
  it('a second AdvertiseKeys, shares batch, masked input or unmasking message from one site', () => {
    const server = new SecAggServer(PARAMS);
    const clientA = new SecAggClient(PARAMS, 'a', seededRandomBytes('dup/a'));
    const advert = clientA.advertiseKeys();
    server.collectAdvertise(advert);
    expect(() => server.collectAdvertise(advert)).toThrow(code('DUPLICATE'));

    const { server: s2, clients, announced } = setUp('advertised');
    const batch = (clients.get('a') as SecAggClient).shareKeys(announced);
    s2.collectShares(batch);
    expect(() => s2.collectShares(batch)).toThrow(code('DUPLICATE'));

    const { server: s3, clients: c3, routed } = setUp('masked');
    expect(() => s3.collectMasked((c3.get('e') as SecAggClient).maskedInput(VECTOR, 10, routed.get('e') ?? []))).not.toThrow();
    const again = { studyId: PARAMS.studyId, round: PARAMS.round, siteId: 'e', masked: new Uint32Array(9) };
    expect(() => s3.collectMasked(again)).toThrow(code('DUPLICATE'));

    const { server: s4, clients: c4, request } = setUp('unmaskRequested');
    const response = (c4.get('a') as SecAggClient).unmask(request?.survivors ?? [], request?.dropped ?? []);
    s4.collectUnmasking(response);
    expect(() => s4.collectUnmasking(response)).toThrow(code('DUPLICATE'));
  });

  it('the same share routed twice to a client, and two shares to one recipient in a batch', () => {
    const { clients, routed } = setUp('routed');
    const mine = routed.get('b') as EncryptedShares[];
    expect(() => (clients.get('b') as SecAggClient).maskedInput(VECTOR, 10, [...mine, mine[0]])).toThrow(code('DUPLICATE'));
    const fresh = setUp('advertised');
    const batch = (fresh.clients.get('a') as SecAggClient).shareKeys(fresh.announced);
    expect(() => fresh.server.collectShares([...batch.slice(0, 3), batch[2]])).toThrow(code('DUPLICATE'));
  });
});

describe('SecAgg refuses tampered or misdirected shares (BAD_SHARE)', () => {
  it('a flipped bit anywhere in an encrypted share', () => {
    const probe = setUp('routed');
    const length = (probe.routed.get('d') as EncryptedShares[])[0].ciphertext.length;
    for (const index of [0, 11, 12, 40, length - 1]) {
      const { clients, routed } = setUp('routed');
      const mine = (routed.get('d') as EncryptedShares[]).map((m) => ({ ...m, ciphertext: new Uint8Array(m.ciphertext) }));
      mine[2].ciphertext[index] ^= 0x01;
      expect(() => (clients.get('d') as SecAggClient).maskedInput(VECTOR, 10, mine)).toThrow(code('BAD_SHARE'));
    }
  });

  it('a genuine share relabelled as coming from another site, or replayed from an earlier round', () => {
    const { clients, routed } = setUp('routed');
    const mine = routed.get('a') as EncryptedShares[];
    const fromB = mine.find((m) => m.from === 'b') as EncryptedShares;
    const relabelled = mine.map((m) => (m.from === 'c' ? { ...m, ciphertext: fromB.ciphertext } : m));
    expect(() => (clients.get('a') as SecAggClient).maskedInput(VECTOR, 10, relabelled)).toThrow(code('BAD_SHARE'));

    const earlier = setUp('routed', { ...PARAMS, round: 3 });
    const now = setUp('routed');
    const replay = (now.routed.get('a') as EncryptedShares[]).map((m, i) =>
      i === 0 ? { ...m, ciphertext: (earlier.routed.get('a') as EncryptedShares[])[0].ciphertext } : m,
    );
    expect(() => (now.clients.get('a') as SecAggClient).maskedInput(VECTOR, 10, replay)).toThrow(code('BAD_SHARE'));
  });

  it('server: a corrupted key share of a dropped site, or a self-mask share that disagrees with the others', () => {
    const corrupt = (response: UnmaskingShares, field: 'keyShares' | 'selfMaskShares'): UnmaskingShares => ({
      ...response,
      [field]: response[field].map((s, i) => (i === 0 ? { ...s, y: s.y.map((b, j) => (j === 0 ? b ^ 0xff : b)) } : s)),
    });
    for (const field of ['keyShares', 'selfMaskShares'] as const) {
      const { server, clients, request } = setUp('unmaskRequested');
      const responses = ['a', 'b', 'c', 'd'].map((id) => (clients.get(id) as SecAggClient).unmask(request?.survivors ?? [], request?.dropped ?? []));
      responses[0] = corrupt(responses[0], field);
      expect(() => server.finish(responses)).toThrow(code('BAD_SHARE'));
      expect(server.phase).toBe('aborted');
    }
  });
});

describe('SecAgg state machine and input checks', () => {
  it('steps out of order are BAD_STATE', () => {
    const client = new SecAggClient(PARAMS, 'a', seededRandomBytes('state/a'));
    expect(() => client.maskedInput(VECTOR, 1, [])).toThrow(code('BAD_STATE'));
    client.advertiseKeys();
    expect(() => client.advertiseKeys()).toThrow(code('BAD_STATE'));
    const server = new SecAggServer(PARAMS);
    expect(() => server.routeShares()).toThrow(code('BAD_STATE'));
    expect(() => server.finish()).toThrow(code('BAD_STATE'));
  });

  it('unknown sites are UNKNOWN_SITE', () => {
    expect(() => new SecAggClient(PARAMS, 'z')).toThrow(code('UNKNOWN_SITE'));
    const server = new SecAggServer(PARAMS);
    const advert = new SecAggClient(PARAMS, 'a', seededRandomBytes('unknown/a')).advertiseKeys();
    expect(() => server.collectAdvertise({ ...advert, siteId: 'z' })).toThrow(code('UNKNOWN_SITE'));
  });

  it('a client reveals b-shares or key shares, never both, and checks the survivor/dropped lists', () => {
    const { clients, request } = setUp('unmaskRequested');
    expect(request?.survivors).toEqual(['a', 'b', 'c', 'd']);
    expect(request?.dropped).toEqual(['e']);
    const a = clients.get('a') as SecAggClient;
    expect(() => a.unmask(['a', 'b', 'c', 'd', 'e'], ['e'])).toThrow(code('MALFORMED'));
    const b = clients.get('b') as SecAggClient;
    expect(() => b.unmask(['a', 'c', 'd'], ['b', 'e'])).toThrow(code('MALFORMED'));
    const c = clients.get('c') as SecAggClient;
    expect(() => c.unmask(['a', 'c'], ['b', 'd', 'e'])).toThrow(code('BELOW_THRESHOLD'));
    const d = clients.get('d') as SecAggClient;
    const response = d.unmask(['a', 'b', 'c', 'd'], ['e']);
    expect(response.selfMaskShares.map((s) => s.of)).toEqual(['a', 'b', 'c', 'd']);
    expect(response.keyShares.map((s) => s.of)).toEqual(['e']);
    expect(() => d.unmask(['a', 'b', 'c', 'e'], ['d'])).toThrow(code('BAD_STATE'));
  });

  it('malformed masked inputs, weights and parameters are MALFORMED', () => {
    const { server, clients, routed } = setUp('routed');
    expect(() => server.collectMasked({ studyId: PARAMS.studyId, round: PARAMS.round, siteId: 'a', masked: new Uint32Array(3) })).toThrow(code('MALFORMED'));
    expect(() => (clients.get('b') as SecAggClient).maskedInput(VECTOR, 101, routed.get('b') ?? [])).toThrow(code('MALFORMED'));
    expect(() => new SecAggServer({ ...PARAMS, siteIds: ['b', 'a'] })).toThrow(code('MALFORMED'));
    expect(() => new SecAggServer({ ...PARAMS, threshold: 6 })).toThrow(code('MALFORMED'));
  });
});
