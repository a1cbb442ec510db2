/**
 * The 美好家园 score: governance's own records joined with the fields other bureaus own, which the
 * gateway sends in the representation because of `@requires`. Rubrics: two fixed verified weights,
 * the rest configurable. Scores stored by the mutation recordBeautifulHomeScores (from governance's
 * own records only) rank the typical-case candidates; a query never writes.
 */
import { gql, startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { DEMO } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let g: GovernanceUnderTest;
beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z');
});
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

/** A Community representation as the gateway builds it for the @requires fields. */
const rep = (id: string, ext: { amountRate?: number | null; percent?: number | null; visitRate?: number | null; status?: string | null } = {}) => ({
  __typename: 'Community',
  id,
  feeCollection: ext.amountRate === undefined ? null : { amountRate: ext.amountRate },
  latestSatisfaction: ext.percent === undefined ? null : { percent: ext.percent },
  elderlyStats: { monthlyVisitRate: ext.visitRate ?? null },
  renovationSummary: ext.status === undefined ? null : { status: ext.status },
});

const RUIJIN = rep(DEMO.ruijin, { amountRate: 0.96, percent: 97, visitRate: 1, status: 'ACCEPTED' });
const YIJIANG = rep(DEMO.yijiang);

const SCORE = `query($r: [_Any!]!, $rubric: ID) { _entities(representations: $r) { ... on Community {
  beautifulHomeScore(rubricId: $rubric)
  beautifulHome(rubricId: $rubric) { rubricId score coverage breakdown { dimension weight score indicators { key value score source } } } } } }`;
const RECORD = `mutation($city: ID!, $district: ID, $rubric: ID) { recordBeautifulHomeScores(cityCode: $city, districtCode: $district, rubricId: $rubric) {
  rubricId cityCode districtCode recorded evaluatedAt } }`;
const CANDIDATES = `query($city: ID!) { typicalCaseCandidates(cityCode: $city, excludeDesignated: false) {
  rank community { id } beautifulHomeScore coverage evaluatedAt designations { level } breakdown { dimension weight score indicators { key value score source } } } }`;
const evaluations = () => g.conn.collection('evaluations');

const dims = (e: any) => Object.fromEntries(e.beautifulHome.breakdown.map((d: any) => [d.dimension, d.score]));

describe('beautifulHomeScore (@requires)', () => {
  it('joins the other bureaus’ fields from the representation with governance’s records', async () => {
    const res = await g.q(SCORE, { r: [RUIJIN] });
    const e = res._entities[0];
    expect(dims(e)).toEqual({
      PARTY_LEADERSHIP: 50, // 物业党组织 yes, 党建联盟 no, no meeting records
      COMMITTEE_GOVERNANCE: 100, // an active 业委会; disclosure and party ratio unknown
      SERVICE_QUALITY: 96.5, // amountRate 0.96 and 97% satisfaction (properties); no rated tickets yet
      RESIDENT_PARTICIPATION: 33.33, // no patrol team or activities on record; elderly visit rate 100% (elderly)
      ENVIRONMENT_SAFETY: 75, // renovation ACCEPTED (renovation); 电动车充电 co-governed
    });
    expect(e.beautifulHomeScore).toBe(70.97);
    expect(e.beautifulHome).toMatchObject({ rubricId: 'rb_default', score: 70.97, coverage: 1 });
    const service = e.beautifulHome.breakdown.find((d: any) => d.dimension === 'SERVICE_QUALITY');
    expect(service.indicators).toEqual([
      { key: 'feeAmountRate', value: 0.96, score: 96, source: 'properties' },
      { key: 'satisfactionPercent', value: 97, score: 97, source: 'properties' },
      { key: 'ticketSatisfiedRate', value: null, score: null, source: 'governance' },
      { key: 'ticketOnTimeRate', value: null, score: null, source: 'governance' },
    ]);
  });

  it('leaves out dimensions without evidence and says so through coverage', async () => {
    const e = (await g.q(SCORE, { r: [YIJIANG] }))._entities[0];
    expect(dims(e)).toEqual({ PARTY_LEADERSHIP: 100, COMMITTEE_GOVERNANCE: 100, SERVICE_QUALITY: null, RESIDENT_PARTICIPATION: 100, ENVIRONMENT_SAFETY: 100 });
    expect(e.beautifulHome).toMatchObject({ score: 100, coverage: 0.8 });
  });

  it('treats a representation without the required fields as having no evidence from the other bureaus', async () => {
    const e = (await g.q(SCORE, { r: [{ __typename: 'Community', id: DEMO.ruijin }] }))._entities[0];
    expect(dims(e).SERVICE_QUALITY).toBeNull();
  });

  it('counts governance’s own ticket outcomes in service quality', async () => {
    const t = await g.q(`mutation { createServiceTicket(input: { communityId: "${DEMO.ruijin}", channel: HOTLINE_12345, serviceCode: SANITATION, description: "卫生", requestedAt: "2026-03-16T02:00:00Z" }) { id } }`);
    const id = t.createServiceTicket.id;
    const steps: [string, Record<string, unknown>][] = [
      ['DISPATCHED', { assigneeOrg: '明商集团恒兆公司' }], ['IN_PROGRESS', {}], ['REPLIED', {}], ['RESOLVED', {}], ['RETURN_VISITED', { satisfaction: 'SATISFIED' }], ['EVALUATED', {}],
    ];
    for (const [to, extra] of steps) await g.q(`mutation($i: TransitionTicketInput!) { transitionTicket(input: $i) { id } }`, { i: { id, to, at: '2026-03-17T02:00:00Z', ...extra } });
    const e = (await g.q(SCORE, { r: [RUIJIN] }))._entities[0];
    expect(dims(e).SERVICE_QUALITY).toBe(98.25); // (96 + 97 + 100 + 100) / 4
  });
});

describe('rubrics', () => {
  it('lists the default rubric with its two fixed verified weights', async () => {
    const res = await g.q(`{ evaluationRubric { id isDefault dimensions { dimension weight fixed label } } }`);
    expect(res.evaluationRubric.isDefault).toBe(true);
    expect(res.evaluationRubric.dimensions.map((d: any) => [d.dimension, d.weight, d.fixed])).toEqual([
      ['PARTY_LEADERSHIP', 0.2, true],
      ['COMMITTEE_GOVERNANCE', 0.2, true],
      ['SERVICE_QUALITY', 0.2, false],
      ['RESIDENT_PARTICIPATION', 0.2, false],
      ['ENVIRONMENT_SAFETY', 0.2, false],
    ]);
  });

  it('accepts configured weights for the other dimensions and scores with them', async () => {
    const UPSERT = `mutation($i: EvaluationRubricInput!) { upsertEvaluationRubric(input: $i) { id isDefault dimensions { dimension weight fixed } } }`;
    const weights = [
      { dimension: 'PARTY_LEADERSHIP', weight: 0.2 },
      { dimension: 'COMMITTEE_GOVERNANCE', weight: 0.2 },
      { dimension: 'SERVICE_QUALITY', weight: 0.4 },
      { dimension: 'RESIDENT_PARTICIPATION', weight: 0.1 },
      { dimension: 'ENVIRONMENT_SAFETY', weight: 0.1 },
    ];
    const ok = await g.q(UPSERT, { i: { id: 'rb_service', name: '服务质量加权', weights } });
    expect(ok.upsertEvaluationRubric).toMatchObject({ id: 'rb_service', isDefault: false });
    const fixed = await g.raw(UPSERT, { i: { id: 'rb_bad', name: 'x', weights: weights.map((w) => (w.dimension === 'COMMITTEE_GOVERNANCE' ? { ...w, weight: 0.1 } : w.dimension === 'SERVICE_QUALITY' ? { ...w, weight: 0.5 } : w)) } });
    expect(fixed.errors?.[0].message).toBe('weights: COMMITTEE_GOVERNANCE has the verified fixed weight 0.2; got 0.1');
    const builtIn = await g.raw(UPSERT, { i: { id: 'rb_default', name: 'x', weights } });
    expect(builtIn.errors?.[0].extensions?.field).toBe('id');

    const e = (await g.q(SCORE, { r: [RUIJIN], rubric: 'rb_service' }))._entities[0];
    expect(e.beautifulHome.rubricId).toBe('rb_service');
    // 0.2·50 + 0.2·100 + 0.4·98.25 + 0.1·33.33 + 0.1·75
    expect(e.beautifulHomeScore).toBe(80.13);
    const unknown = await g.raw(SCORE, { r: [RUIJIN], rubric: 'rb_missing' });
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const list = await g.q(`{ evaluationRubrics { id } }`);
    expect(list.evaluationRubrics).toEqual([{ id: 'rb_default' }, { id: 'rb_service' }]);
  });
});

describe('storing scores', () => {
  it('a query with persist: true is refused with BAD_USER_INPUT naming persist, anonymous or not, and writes nothing', async () => {
    const forged = rep(DEMO.yijiang, { amountRate: 1, percent: 100, visitRate: 1, status: 'ACCEPTED' });
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { beautifulHome(persist: true) { score } } } }`;
    const anonymous = await g.raw(q, { r: [forged] });
    const admin = await gql(g.url, q, { r: [forged] }, await authHeader('CITY_ADMIN'));
    for (const res of [anonymous, admin]) {
      expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'persist']]);
    }
    expect(await evaluations().countDocuments()).toBe(0);
  });

  it('recordBeautifulHomeScores needs governance:write: anonymous and civil-affairs callers are refused and nothing is stored', async () => {
    const anonymous = await gql(g.url, RECORD, { city: '320100' }, { authorization: '' });
    const civil = await gql(g.url, RECORD, { city: '320100' }, await authHeader('CIVIL_AFFAIRS'));
    const street = await gql(g.url, RECORD, { city: '320100' }, await authHeader('STREET_STAFF', { district: '320104', communities: [DEMO.ruijin] }));
    expect([anonymous, civil, street].map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([['UNAUTHENTICATED'], ['FORBIDDEN'], ['FORBIDDEN']]);
    expect(await evaluations().countDocuments()).toBe(0);
  });

  it.each([
    [{ city: '3201' }, 'cityCode'],
    [{ city: '320100', district: '320701' }, 'districtCode'],
    [{ city: '320100', district: '320199' }, 'districtCode'], // a district governance's register does not know
    [{ city: '999900' }, 'cityCode'],
    [{ city: '320100', rubric: 'rb_missing' }, 'rubricId'],
  ])('recordBeautifulHomeScores(%j) is refused with BAD_USER_INPUT naming %s and stores nothing', async (vars, field) => {
    const res = await g.raw(RECORD, vars);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
    expect(await evaluations().countDocuments()).toBe(0);
  });

  it('stores, for every 小区 of the city, the score governance computes from its own records: no figure of another bureau, whatever a caller sends', async () => {
    // A caller sending made-up figures in a representation changes the score it is answered, never a stored one.
    await g.q(SCORE, { r: [rep(DEMO.yijiang, { amountRate: 1, percent: 100, visitRate: 1, status: 'ACCEPTED' })] });
    const run = await gql(g.url, RECORD, { city: '320100' }, await authHeader('HOUSING_BUREAU'));
    expect(run.errors).toBeUndefined();
    expect(run.data!.recordBeautifulHomeScores).toEqual({ rubricId: 'rb_default', cityCode: '320100', districtCode: null, recorded: 2, evaluatedAt: '2026-03-20T02:00:00.000Z' });
    const own = (await g.q(SCORE, { r: [DEMO.ruijin, DEMO.yijiang].map((id) => ({ __typename: 'Community', id })) }))._entities;
    const stored = await evaluations().find({}).sort({ _id: 1 }).toArray();
    expect(stored.map((d) => [d._id, d.communityId, d.cityCode, d.score, d.coverage, d.basis])).toEqual([
      ['rb_default:' + DEMO.ruijin, DEMO.ruijin, '320100', own[0].beautifulHome.score, own[0].beautifulHome.coverage, 'GOVERNANCE_RECORDS'],
      ['rb_default:' + DEMO.yijiang, DEMO.yijiang, '320100', own[1].beautifulHome.score, own[1].beautifulHome.coverage, 'GOVERNANCE_RECORDS'],
    ]);
    const external = stored.flatMap((d) => d.breakdown.flatMap((x: any) => x.indicators)).filter((i: any) => i.source !== 'governance');
    expect(external.length).toBeGreaterThan(0);
    expect(external.every((i: any) => i.value === null && i.score === null)).toBe(true);
  });
});

describe('typical-case candidates', () => {
  it('ranks the stored scores in the subgraph, with score, coverage and designation filters', async () => {
    await g.q(RECORD, { city: '320100' });
    const own = (await g.q(SCORE, { r: [DEMO.ruijin, DEMO.yijiang].map((id) => ({ __typename: 'Community', id })) }))._entities;
    const [ruijin, yijiang] = own.map((e: any) => e.beautifulHome);
    const res = await g.q(CANDIDATES, { city: '320100' });
    expect(res.typicalCaseCandidates.map((c: any) => [c.rank, c.community.id, c.beautifulHomeScore, c.coverage])).toEqual([
      [1, DEMO.yijiang, yijiang.score, yijiang.coverage],
      [2, DEMO.ruijin, ruijin.score, ruijin.coverage],
    ]);
    expect(yijiang.score).toBeGreaterThan(ruijin.score);
    expect(res.typicalCaseCandidates[1]).toMatchObject({ evaluatedAt: '2026-03-20T02:00:00.000Z', designations: [{ level: 'NATIONAL_TYPICAL_CASE' }] });
    expect(res.typicalCaseCandidates[1].breakdown).toHaveLength(5);
    const minScore = (ruijin.score + yijiang.score) / 2;
    const minCoverage = (ruijin.coverage + yijiang.coverage) / 2;
    expect(ruijin.coverage).not.toBe(yijiang.coverage);
    const filtered = await g.q(`query($minScore: Float, $minCoverage: Float) {
      a: typicalCaseCandidates(cityCode: "320100", excludeDesignated: false, minCoverage: $minCoverage) { community { id } }
      b: typicalCaseCandidates(cityCode: "320100") { community { id } }
      c: typicalCaseCandidates(cityCode: "320100", excludeDesignated: false, minScore: $minScore) { community { id } }
      d: typicalCaseCandidates(cityCode: "320700", excludeDesignated: false) { community { id } } }`, { minScore, minCoverage });
    const higherCoverage = ruijin.coverage > yijiang.coverage ? DEMO.ruijin : DEMO.yijiang;
    expect(filtered).toEqual({ a: [{ community: { id: higherCoverage } }], b: [], c: [{ community: { id: DEMO.yijiang } }], d: [] });
    const bad = await g.raw(`{ typicalCaseCandidates(cityCode: "320100", minScore: 120) { rank } }`);
    expect(bad.errors?.[0].extensions?.field).toBe('minScore');
  });

  it('leaves out scores stored by the former persist query (figures a caller sent), so a forged score never ranks', async () => {
    await evaluations().insertOne({
      _id: 'rb_default:cm_320104_forged' as never, rubricId: 'rb_default', communityId: 'cm_320104_forged', cityCode: '320100', score: 99.9, coverage: 1,
      breakdown: [{ dimension: 'RESIDENT_PARTICIPATION', label: '', weight: 0.2, score: 33.33, indicators: [{ key: 'elderlyMonthlyVisitRate', value: 0.3333, score: 33.33, source: 'elderly' }] }],
      evaluatedAt: new Date('2026-03-19T00:00:00Z'),
    });
    const res = await g.q(CANDIDATES, { city: '320100' });
    expect(res.typicalCaseCandidates.map((c: any) => c.community.id)).toEqual([DEMO.yijiang, DEMO.ruijin]);
    expect(JSON.stringify(res)).not.toContain('0.3333');
  });

  it('an anonymous caller sees no elderly figure in a stored breakdown: the mutation does not store one', async () => {
    const res = await g.q(CANDIDATES, { city: '320100' });
    const indicators = res.typicalCaseCandidates.flatMap((c: any) => c.breakdown.flatMap((d: any) => d.indicators));
    expect(indicators.filter((i: any) => i.key === 'elderlyMonthlyVisitRate')).toEqual([
      { key: 'elderlyMonthlyVisitRate', value: null, score: null, source: 'elderly' },
      { key: 'elderlyMonthlyVisitRate', value: null, score: null, source: 'elderly' },
    ]);
  });

  it('a caller without governance:sensitive is shown the evaluation re-scored without the party-member ratio: nothing it sees depends on the hidden value', async () => {
    // 怡江苑's 物管会 gets a known ratio; the stored score keeps using it for the city administrator.
    await g.conn.collection('committees').updateOne({ communityId: DEMO.yijiang }, { $set: { partyMemberRatio: 0.25 } });
    await g.q(RECORD, { city: '320100' });
    const ind = (c: any, key: string) => c.breakdown.flatMap((d: any) => d.indicators).find((i: any) => i.key === key);
    const dim = (c: any, d: string) => c.breakdown.find((x: any) => x.dimension === d);
    const round2 = (v: number) => Math.round(v * 100) / 100;
    /** The total and dimension scores as recomputed from the visible indicators alone. */
    const fromVisible = (c: any) => {
      const dims = c.breakdown.map((d: any) => {
        const s = d.indicators.filter((i: any) => i.score != null).map((i: any) => i.score);
        return { weight: d.weight, score: s.length ? round2(s.reduce((a: number, b: number) => a + b, 0) / s.length) : null };
      });
      const scored = dims.filter((d: any) => d.score != null && d.weight > 0);
      const w = scored.reduce((a: number, d: any) => a + d.weight, 0);
      return { dims: dims.map((d: any) => d.score), total: w ? round2(scored.reduce((a: number, d: any) => a + d.weight * d.score, 0) / w) : null };
    };
    const anonymous = (await g.q(CANDIDATES, { city: '320100' })).typicalCaseCandidates.find((c: any) => c.community.id === DEMO.yijiang);
    expect(ind(anonymous, 'partyMemberRatio')).toMatchObject({ value: null, score: null });
    expect(anonymous.breakdown.map((d: any) => d.score)).toEqual(fromVisible(anonymous).dims);
    expect(anonymous.beautifulHomeScore).toBe(fromVisible(anonymous).total);
    const admin = (await gql(g.url, CANDIDATES, { city: '320100' }, await authHeader('CITY_ADMIN'))).data!.typicalCaseCandidates.find((c: any) => c.community.id === DEMO.yijiang);
    expect(ind(admin, 'partyMemberRatio')).toMatchObject({ value: 0.25, score: 50 });
    expect(dim(admin, 'COMMITTEE_GOVERNANCE').score).toBe(75); // committee in place 100, ratio 0.25 → 50
    expect(dim(anonymous, 'COMMITTEE_GOVERNANCE').score).not.toBe(75);
    expect(anonymous.beautifulHomeScore).not.toBe(admin.beautifulHomeScore);
    // The live evaluation follows the same rule.
    const live = (await g.q(SCORE, { r: [YIJIANG] }))._entities[0];
    expect(ind(live.beautifulHome, 'partyMemberRatio')).toMatchObject({ value: null, score: null });
    expect(live.beautifulHome.score).toBe(fromVisible(live.beautifulHome).total);
    expect(live.beautifulHomeScore).toBe(live.beautifulHome.score);
    const liveAdmin = (await gql(g.url, SCORE, { r: [YIJIANG] }, await authHeader('CITY_ADMIN'))).data!._entities[0].beautifulHome;
    expect(ind(liveAdmin, 'partyMemberRatio')).toMatchObject({ value: 0.25, score: 50 });
    expect(dim(liveAdmin, 'COMMITTEE_GOVERNANCE').score).toBe(75);
  });

  it('candidates are ranked by the score the caller is shown', async () => {
    const ranked = (await g.q(CANDIDATES, { city: '320100' })).typicalCaseCandidates.map((c: any) => c.beautifulHomeScore);
    expect(ranked.length).toBeGreaterThanOrEqual(2);
    expect(ranked).toEqual([...ranked].sort((a: number, b: number) => b - a));
    const admin = (await gql(g.url, CANDIDATES, { city: '320100' }, await authHeader('CITY_ADMIN'))).data!.typicalCaseCandidates.map((c: any) => c.beautifulHomeScore);
    expect(admin).toEqual([...admin].sort((a: number, b: number) => b - a));
  });
});
