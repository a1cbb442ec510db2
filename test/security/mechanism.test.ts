/**
 * The shared enforcement mechanism on the fixture subgraph, through a real gateway: personal data
 * answers null + an error to callers without the right scope or outside their area, hidden rows
 * answer like missing ones, aggregates are suppressed below 5 without individual-level access,
 * every personal-data read is audited once per request.
 */
import { auditModel } from '../../lib/auth/audit';
import { startFixtureStack, token, bearer, q, codes, type FixtureStack } from './helpers';

let fx: FixtureStack;
let t: Record<string, string>;
beforeAll(async () => {
  fx = await startFixtureStack({ security: { rateLimitPerMinute: 10_000 } });
  const a = fx.auth;
  t = {
    admin: await token(a, { role: 'CITY_ADMIN' }),
    civil: await token(a, { role: 'CIVIL_AFFAIRS' }),
    housing: await token(a, { role: 'HOUSING_BUREAU' }),
    teamA: await token(a, { role: 'CARE_TEAM', team: 'ct_a' }),
    teamB: await token(a, { role: 'CARE_TEAM', team: 'ct_b' }),
    street104: await token(a, { role: 'STREET_STAFF', district: '320104', street: '320104001' }),
    streetOther: await token(a, { role: 'STREET_STAFF', street: '320113002' }),
    company: await token(a, { role: 'PROPERTY_COMPANY', company: '91320100MA1TEST01X' }),
    partner: await token(a, { role: 'PARTNER', partner: 'meals' }),
  };
});
afterAll(async () => fx?.stop());

const audits = () => auditModel(fx.conn).find({}).lean().exec();

describe('personal data', () => {
  test('a care team reads its own elder; another team gets the same answer as for a missing id', async () => {
    const mine = await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id phone } }', bearer(t.teamA));
    expect(mine.data.elder).toEqual({ id: 'el_a1', phone: '13800000001' });
    const hidden = await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id phone } }', bearer(t.teamB));
    const missing = await q(fx.gatewayUrl, '{ elder(id: "el_zz") { id phone } }', bearer(t.teamB));
    expect(hidden).toEqual(missing);
    expect(hidden.data).toEqual({ elder: null });
    expect(hidden.errors).toBeUndefined();
  });

  test('lists are filtered to the caller’s rows', async () => {
    const a = await q(fx.gatewayUrl, '{ elders { id } }', bearer(t.teamA));
    expect(a.data.elders.map((e: { id: string }) => e.id)).toEqual(['el_a1', 'el_a2']);
    const s = await q(fx.gatewayUrl, '{ elders { id } }', bearer(t.streetOther));
    expect(s.data.elders.map((e: { id: string }) => e.id)).toEqual(['el_b1']);
    const all = await q(fx.gatewayUrl, '{ elders { id } }', bearer(t.civil));
    expect(all.data.elders).toHaveLength(3);
  });

  test('a bureau without the elderly scopes gets null + FORBIDDEN per personal field, never the value', async () => {
    const r = await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id ageBand name phone } }', bearer(t.housing));
    expect(r.data.elder).toEqual({ id: 'el_a1', ageBand: '80_89', name: null, phone: null });
    expect(codes(r)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(JSON.stringify(r)).not.toContain('1380000');
  });

  test('street staff read personal but not sensitive data in their area', async () => {
    const r = await q(fx.gatewayUrl, '{ elder(id: "el_a1") { phone healthNotes } }', bearer(t.street104));
    expect(r.data.elder).toEqual({ phone: '13800000001', healthNotes: null });
    expect(codes(r)).toEqual(['FORBIDDEN']);
    expect(r.errors![0]!.path).toEqual(['elder', 'healthNotes']);
  });

  test('entities fetched through _entities are row-scoped too (hidden = null)', async () => {
    const rep = { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Elder { id phone } } }', variables: { r: [{ __typename: 'Elder', id: 'el_a1' }, { __typename: 'Elder', id: 'el_b1' }] } };
    const res = await fetch(fx.subgraphUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(t.teamA) }, body: JSON.stringify(rep) });
    const body = (await res.json()) as { data: { _entities: unknown[] } };
    expect(body.data._entities).toEqual([{ id: 'el_a1', phone: '13800000001' }, null]);
  });
});

describe('entity representations and the area of a row', () => {
  const entities = (reps: unknown[], selection: string, headers: Record<string, string>) =>
    q(fx.subgraphUrl, `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`, headers, { r: reps });

  test('a representation cannot forge the area: a districtCode or streetCode sent to _entities is ignored, the 小区 id decides', async () => {
    const forged = await entities(
      [{ __typename: 'Community', id: 'cm_320113_0001', districtCode: '320104', streetCode: '320104001', neighborhoodCode: '320104001001' }],
      '... on Community { liaisonPhone }',
      bearer(t.street104!),
    );
    expect([forged.data?._entities, codes(forged)]).toEqual([[{ liaisonPhone: null }], ['FORBIDDEN']]);
    expect(JSON.stringify(forged)).not.toContain('13700000113');
    const own = await entities([{ __typename: 'Community', id: 'cm_320104_0001' }], '... on Community { liaisonPhone }', bearer(t.street104!));
    expect([own.errors, own.data?._entities]).toEqual([undefined, [{ liaisonPhone: '13700000104' }]]);
  });

  test('street staff whose token names only a street read the personal data of their street’s 小区 (the subgraph’s register supplies the street), not of another street', async () => {
    const streetOnly = bearer(await token(fx.auth, { role: 'STREET_STAFF', street: '320104001' }));
    const r = await entities([{ __typename: 'Community', id: 'cm_320104_0001' }, { __typename: 'Community', id: 'cm_320113_0001' }], '... on Community { liaisonPhone }', streetOnly);
    expect(r.data?._entities).toEqual([{ liaisonPhone: '13700000104' }, { liaisonPhone: null }]);
    expect(codes(r)).toEqual(['FORBIDDEN']);
    const neighbourhoodOnly = bearer(await token(fx.auth, { role: 'STREET_STAFF', neighborhood: '320113002001' }));
    const n = await entities([{ __typename: 'Community', id: 'cm_320113_0001' }], '... on Community { liaisonPhone }', neighbourhoodOnly);
    expect([n.errors, n.data?._entities]).toEqual([undefined, [{ liaisonPhone: '13700000113' }]]);
  });

  test('the key of a representation must be a scalar: an operator object is BAD_USER_INPUT naming it, never a database error', async () => {
    for (const id of [{ $gt: '' }, { $ne: null }, ['el_a1']]) {
      const r = await entities([{ __typename: 'Elder', id }], '... on Elder { id }', bearer(t.civil!));
      expect([codes(r), r.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'representations.id: the key of Elder must be a scalar, not an object']);
    }
  });
});

describe('errors', () => {
  test('an unexpected error reaches the caller as "Internal server error", without the database’s message, at the subgraph and through the gateway', async () => {
    for (const url of [fx.subgraphUrl, fx.gatewayUrl]) {
      const r = await q(url, '{ brokenQuery }', bearer(t.civil!));
      expect([r.errors?.[0]?.message, r.errors?.[0]?.extensions?.code]).toEqual(['Internal server error', 'INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(r)).not.toMatch(/E11000|city_elderly|phone_1|13800000001|stack/);
    }
    // The services keep serving.
    expect((await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id } }', bearer(t.civil!))).data.elder).toEqual({ id: 'el_a1' });
  });
});

describe('aggregates and k-anonymity', () => {
  test('counts below 5 are suppressed for callers without individual-level access', async () => {
    const query = '{ elderCount(communityId: "cm_320104_0001") }';
    expect((await q(fx.gatewayUrl, query)).data.elderCount).toBeNull();
    expect((await q(fx.gatewayUrl, query, bearer(t.housing))).data.elderCount).toBeNull();
    expect((await q(fx.gatewayUrl, query, bearer(t.teamA))).data.elderCount).toBeNull(); // row-limited
    expect((await q(fx.gatewayUrl, query, bearer(t.civil))).data.elderCount).toBe(2);
  });
});

describe('mutations', () => {
  test.each([
    ['civil', true],
    ['teamA', true],
    ['housing', false],
    ['partner', false],
  ])('%s recording a visit: allowed=%s', async (who, allowed) => {
    const before = fx.visits.length;
    const r = await q(fx.gatewayUrl, 'mutation { recordVisit(elderId: "el_a1") }', bearer(t[who]!));
    if (allowed) expect(r.data.recordVisit).toBe(true);
    else {
      expect(r.data?.recordVisit ?? null).toBeNull();
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
    expect(fx.visits.length).toBe(before + (allowed ? 1 : 0));
  });

  test('a care team writing for another team’s elder is refused before the resolver runs, exactly as for a missing elder', async () => {
    const before = fx.visits.length;
    const other = await q(fx.gatewayUrl, 'mutation { recordVisit(elderId: "el_b1") }', bearer(t.teamA!));
    const missing = await q(fx.gatewayUrl, 'mutation { recordVisit(elderId: "el_zz9") }', bearer(t.teamA!));
    expect(codes(other)).toEqual(['FORBIDDEN']);
    expect(codes(missing)).toEqual(['FORBIDDEN']);
    const shape = (m: string) => m.replace(/"[^"]*"/, '"…"');
    expect(shape(other.errors![0]!.message)).toBe(shape(missing.errors![0]!.message));
    expect(other.errors![0]!.message).toMatch(/outside your area or does not exist/);
    expect(fx.visits.length).toBe(before);
  });

  test('a city-wide mutation (no @rowScope target) is closed to row-limited callers and open to unlimited ones', async () => {
    const team = await q(fx.gatewayUrl, 'mutation { publishNotice(text: "停水通知") }', bearer(t.teamA!));
    expect(codes(team)).toEqual(['FORBIDDEN']);
    expect(team.errors![0]!.message).toMatch(/city-wide/);
    const civil = await q(fx.gatewayUrl, 'mutation { publishNotice(text: "停水通知") }', bearer(t.civil!));
    expect(civil.data.publishNotice).toBe(true);
  });

  test('anonymous callers cannot write', async () => {
    const before = fx.visits.length;
    const r = await q(fx.gatewayUrl, 'mutation { recordVisit(elderId: "el_a1") }');
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    expect(fx.visits.length).toBe(before);
  });
});

describe('audit log', () => {
  test('reading an elder’s phone as a care team leaves exactly one record with the right fields; aggregates leave none', async () => {
    await auditModel(fx.conn).collection.deleteMany({}); // test set-up only: the model itself refuses deletes
    const requestId = '0a1b2c3d-0000-4000-8000-000000000001';
    const r = await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id name phone } }', { ...bearer(t.teamA), 'x-request-id': requestId });
    expect(r.errors).toBeUndefined();
    let docs = await audits();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ subgraph: 'elderly', requestId, subject: 'care_team:ct_a', role: 'CARE_TEAM', reads: [{ type: 'Elder', id: 'el_a1', fields: ['id', 'name', 'phone'] }] });
    expect(docs[0]!.at).toBeInstanceOf(Date);

    await q(fx.gatewayUrl, '{ elderCount(communityId: "cm_320104_0001") }', bearer(t.civil));
    docs = await audits();
    expect(docs).toHaveLength(1);
  });

  test('rows of a row-scoped (individual-level) type are audited even without @pii fields, their ids alone too (a filtered list tells attributes)', async () => {
    await auditModel(fx.conn).collection.deleteMany({}); // test set-up only
    await q(fx.gatewayUrl, '{ elders(filter: { communityId: "cm_320104_0001", livingArrangement: "LIVING_ALONE" }) { id } }', { ...bearer(t.civil), 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000002' });
    expect((await audits()).map((d) => [d.requestId, d.reads])).toEqual([['0a1b2c3d-0000-4000-8000-000000000002', [{ type: 'Elder', id: 'el_a1', fields: ['id'] }]]]);
    await auditModel(fx.conn).collection.deleteMany({}); // test set-up only
    await q(fx.gatewayUrl, '{ elders(filter: { communityId: "cm_320104_0001" }) { id ageBand } }', { ...bearer(t.teamA), 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000003' });
    const docs = await audits();
    expect(docs.map((d) => [d.requestId, d.reads])).toEqual([
      ['0a1b2c3d-0000-4000-8000-000000000003', [{ type: 'Elder', id: 'el_a1', fields: ['id', 'ageBand'] }, { type: 'Elder', id: 'el_a2', fields: ['id', 'ageBand'] }]],
    ]);
  });

  test.each([
    ['free text', encodeURIComponent('x; DROP TABLE audit -- 伪造的请求号').slice(0, 90)],
    ['a name and a phone number', 'name:chen.guilan-13811112222'],
    ['a short token', 'abc'],
    ['an ID-card number (valid hex)', '320104195001011234'],
    ['a hex trace id (could be digits only)', '4bf92f3577b34da6a3ce929d0e0e4736'],
  ])('a request id that is %s is replaced by a fresh UUID in the audit log, never stored as sent', async (_what, sent) => {
    await auditModel(fx.conn).collection.deleteMany({}); // test set-up only
    await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id phone } }', { ...bearer(t.teamA!), 'x-request-id': sent });
    const [doc] = await audits();
    expect(doc!.requestId).not.toBe(sent);
    expect(doc!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('a UUID as request id is kept for correlation', async () => {
    await auditModel(fx.conn).collection.deleteMany({}); // test set-up only
    await q(fx.gatewayUrl, '{ elder(id: "el_a1") { id phone } }', { ...bearer(t.teamA!), 'x-request-id': '9f1c2d3e-4b5a-4c6d-8e7f-001122334455' });
    expect((await audits())[0]!.requestId).toBe('9f1c2d3e-4b5a-4c6d-8e7f-001122334455');
  });

  test('a list of many residents is one insert per request', async () => {
    await auditModel(fx.conn).collection.deleteMany({});
    await q(fx.gatewayUrl, '{ elders { id phone healthNotes } }', bearer(t.civil));
    const docs = await audits();
    expect(docs).toHaveLength(1);
    expect(docs[0]!.reads.map((x) => x.id)).toEqual(['el_a1', 'el_a2', 'el_b1']);
  });

  test('denied reads are not audited as reads', async () => {
    await auditModel(fx.conn).collection.deleteMany({});
    await q(fx.gatewayUrl, '{ elder(id: "el_a1") { phone } }', bearer(t.housing));
    expect(await audits()).toHaveLength(0);
  });

  test('the audit log is append-only and only the city administrator may query it', async () => {
    await expect(auditModel(fx.conn).deleteMany({}).exec()).rejects.toThrow(/append-only/);
    await expect(auditModel(fx.conn).updateOne({}, { subject: 'x' }).exec()).rejects.toThrow(/append-only/);
    await q(fx.gatewayUrl, '{ elder(id: "el_b1") { phone } }', bearer(t.teamB));
    const query = '{ elderlyAuditLog(recordId: "el_b1") { subject role requestId reads { type id fields } } }';
    const admin = await q(fx.gatewayUrl, query, bearer(t.admin));
    expect(admin.data.elderlyAuditLog[0]).toMatchObject({ subject: 'care_team:ct_b', role: 'CARE_TEAM', reads: [{ type: 'Elder', id: 'el_b1', fields: ['phone'] }] });
    for (const who of ['civil', 'teamB', 'street104']) {
      const r = await q(fx.gatewayUrl, query, bearer(t[who]!));
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
    expect(codes(await q(fx.gatewayUrl, query))).toEqual(['UNAUTHENTICATED']);
  });
});
