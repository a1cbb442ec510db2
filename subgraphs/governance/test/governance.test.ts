/**
 * The governance subgraph as the gateway sees it: its SDL, entity resolution for every entity it
 * owns or extends, the article facts of the seed (and nothing invented), area figures, and an
 * idempotent seed.
 */
import { readFileSync } from 'node:fs';
import { SDL_PATH, subgraph } from '..';
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { DEMO, DEMO_COMPANIES, NATIONAL_ISSUER, PROGRAM } from '../seed';
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

const ents = (query: string, r: Record<string, unknown>[]) => g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ${query} } }`, { r });

describe('governance subgraph', () => {
  it('serves its SDL through _service { sdl }, with the @requires fields of the other bureaus marked @external', async () => {
    const { _service } = await g.q('{ _service { sdl } }');
    const sdl: string = _service.sdl;
    expect(sdl).toMatch(/type Community\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/elderlyStats: ElderlyStats! @external/);
    expect(sdl).toMatch(/beautifulHomeScore\(rubricId: ID\): Float @requires\(fields: "feeCollection \{ amountRate \} latestSatisfaction \{ percent \} elderlyStats \{ monthlyVisitRate \} renovationSummary \{ status \}"\)/);
    expect(readFileSync(SDL_PATH, 'utf8')).toContain('type ServiceTicket @key(fields: "id")');
  });

  it('extends Community with the article facts of each 小区', async () => {
    const res = await ents(
      `... on Community { id gridLevel liaisonCadreRole coGovernanceTopics intakePoints { kind pilot }
         committee { type status roles { role affiliation } termStart lastDisclosureAt }
         partyAlliance { model requiredMeetingsPerMonth cadenceStated members { orgType orgName note } }
         partyOrganizations { kind name hostCompany { uscc } }
         patrolTeams { name memberCount composition }
         activities { type organizers date participantCount }
         designations { level year program issuer announcedAt } }`,
      [DEMO.ruijin, DEMO.yijiang, DEMO.dongfang, DEMO.xinhai, 'cm_unknown'].map((id) => ({ __typename: 'Community', id })),
    );
    const [ruijin, yijiang, dongfang, xinhai, unknown] = res._entities;
    const national = { level: 'NATIONAL_TYPICAL_CASE', year: 2022, program: PROGRAM, issuer: NATIONAL_ISSUER, announcedAt: null };

    expect(ruijin).toMatchObject({
      coGovernanceTopics: ['CLUTTER', 'EV_CHARGING', 'SANITATION'],
      intakePoints: [{ kind: 'ONSITE_12345_DESK', pilot: true }, { kind: 'INTEGRITY_LINE', pilot: true }],
      partyAlliance: null,
      partyOrganizations: [{ kind: 'PROPERTY_COMPANY_PARTY_ORG', name: '物业党组织', hostCompany: { uscc: DEMO_COMPANIES.hengzhao } }],
      committee: { type: 'OWNERS_COMMITTEE', status: 'ACTIVE', roles: [], termStart: null },
      designations: [national],
    });

    expect(yijiang).toMatchObject({
      gridLevel: '二级网格',
      coGovernanceTopics: ['ILLEGAL_CONSTRUCTION', 'DOG', 'WASTE_SORTING', 'CORRIDOR_CLUTTER', 'PUBLIC_SECURITY'],
      committee: {
        type: 'PROPERTY_MANAGEMENT_COMMITTEE',
        roles: [
          { role: 'DIRECTOR', affiliation: 'COMMUNITY_CADRE' },
          { role: 'DEPUTY_DIRECTOR', affiliation: 'COMMUNITY_POLICE' },
        ],
        lastDisclosureAt: null,
      },
      partyAlliance: { model: 'RED_PROPERTY', requiredMeetingsPerMonth: 1, cadenceStated: false },
      patrolTeams: [{ name: '找茬队', memberCount: 12, composition: ['VETERAN_PARTY_MEMBER', 'RETIRED_CADRE'] }],
      designations: [national],
    });
    expect(yijiang.partyAlliance.members.map((m: any) => m.orgType)).toEqual(['STREET', 'NEIGHBORHOOD', 'SOCIAL_ORG', 'POLICE', 'DEVELOPER']);
    expect(yijiang.partyAlliance.members[2].note).toBe('社会组织（含业主自治组织）');
    expect(yijiang.activities.map((a: any) => a.type).sort()).toEqual(
      ['CHESS', 'HEALTH_CLINIC', 'LEGAL_LECTURE', 'READING', 'SKILLS_TRAINING', 'SPRING_COUPLETS', 'TABLE_TENNIS', 'WASTE_SORTING_LECTURE'],
    );
    expect(yijiang.activities[0]).toMatchObject({ organizers: [DEMO_COMPANIES.xieyang, '社区新时代文明实践站'], date: null, participantCount: null });

    expect(dongfang).toMatchObject({
      coGovernanceTopics: ['HEATING', 'FIRE_SAFETY', 'DRYING_AREA'],
      committee: { type: 'OWNERS_COMMITTEE', status: 'ACTIVE' },
      partyAlliance: { model: 'RED_PROPERTY', requiredMeetingsPerMonth: 1, cadenceStated: true },
      partyOrganizations: [{ kind: 'COMMUNITY_PARTY_BRANCH', name: '小区党支部' }],
    });
    expect(dongfang.partyAlliance.members.map((m: any) => m.orgType)).toEqual(
      ['ORG_DEPT', 'HOUSING_DEPT', 'STREET', 'NEIGHBORHOOD', 'OWNERS_COMMITTEE', 'PROPERTY_COMPANY', 'COMMUNITY_PARTY_BRANCH'],
    );
    expect(xinhai).toMatchObject({ committee: null, partyAlliance: null, patrolTeams: [], activities: [], designations: [national] });
    // A 小区 governance has no record of still resolves (governance extends every 小区).
    expect(unknown).toMatchObject({ id: 'cm_unknown', committee: null, coGovernanceTopics: [], designations: [] });
  });

  it('records the cadence rule, not invented meetings: 东方瑞园 must meet monthly and has no meeting on record', async () => {
    const res = await ents(
      `... on Community { jointMeetings(range: ALL) { id } jointMeetingsLast3m meetsCadence jointMeetingCompliance { requiredPerMonth hasRecords meetsCadence months { month held } } }`,
      [{ __typename: 'Community', id: DEMO.dongfang }, { __typename: 'Community', id: DEMO.yijiang }],
    );
    expect(res._entities[0]).toEqual({
      jointMeetings: [],
      jointMeetingsLast3m: 0,
      meetsCadence: false,
      jointMeetingCompliance: {
        requiredPerMonth: 1,
        hasRecords: false,
        meetsCadence: false,
        months: [{ month: '2025-12', held: 0 }, { month: '2026-01', held: 0 }, { month: '2026-02', held: 0 }],
      },
    });
    // No cadence is stated for 怡江苑's alliance: the general rule (1/month) applies; no records either.
    expect(res._entities[1]).toMatchObject({ meetsCadence: false, jointMeetingCompliance: { requiredPerMonth: 1, hasRecords: false } });
  });

  it('holds the city-level rows: the proposed subsidy (by role) and 连云港’s plan for 10 more 美好家园', async () => {
    const res = await g.q(`{ subsidyPolicies(status: PROPOSED) { id issuerLevel requestedIssuerLevels domain proposedBy status effectiveFrom amountRule cityCode }
      designations(cityCode: "320700", level: CANDIDATE) { community { id } cityCode level year targetCount issuer } }`);
    expect(res.subsidyPolicies).toEqual([
      {
        id: 'sp_320100_old_pm_reward', issuerLevel: 'PROVINCE', requestedIssuerLevels: ['PROVINCE', 'CITY'], domain: 'PROPERTY_MANAGEMENT_OLD_COMMUNITY',
        proposedBy: '龙潭街道物业办主任', status: 'PROPOSED', effectiveFrom: null, amountRule: null, cityCode: '320100',
      },
    ]);
    expect(res.designations).toEqual([{ community: null, cityCode: '320700', level: 'CANDIDATE', year: 2022, targetCount: 10, issuer: '连云港市住建局' }]);
  });

  it('resolves every entity it owns by key, with null for unknown keys', async () => {
    const res = await ents(
      `... on Committee { id type } ... on PartyAlliance { id model communities { id } } ... on PatrolTeam { id name community { id } }
       ... on TypicalCaseDesignation { id level designated: community { id } } ... on SubsidyPolicy { id status }
       ... on JointMeeting { id } ... on ServiceTicket { id } ... on PatrolReport { id }`,
      [
        { __typename: 'Committee', id: 'cmt_yijiang_pmc' },
        { __typename: 'PartyAlliance', id: 'al_dongfang' },
        { __typename: 'PatrolTeam', id: 'pt_yijiang_zhaocha' },
        { __typename: 'TypicalCaseDesignation', id: `dsg_2022_${DEMO.xinhai}` },
        { __typename: 'SubsidyPolicy', id: 'sp_320100_old_pm_reward' },
        { __typename: 'JointMeeting', id: 'jm_none' },
        { __typename: 'ServiceTicket', id: 'tk_none' },
        { __typename: 'PatrolReport', id: 'pr_none' },
        { __typename: 'Committee', id: 'cmt_none' },
      ],
    );
    expect(res._entities).toEqual([
      { id: 'cmt_yijiang_pmc', type: 'PROPERTY_MANAGEMENT_COMMITTEE' },
      { id: 'al_dongfang', model: 'RED_PROPERTY', communities: [{ id: DEMO.dongfang }] },
      { id: 'pt_yijiang_zhaocha', name: '找茬队', community: { id: DEMO.yijiang } },
      { id: `dsg_2022_${DEMO.xinhai}`, level: 'NATIONAL_TYPICAL_CASE', designated: { id: DEMO.xinhai } },
      { id: 'sp_320100_old_pm_reward', status: 'PROPOSED' },
      null,
      null,
      null,
      null,
    ]);
  });

  it('computes committee, meeting and designation figures per city and district in the database', async () => {
    const res = await ents(
      `... on City { code committeeStats { communities withOwnersCommittee withPMC none active expiredTerms disclosedLast12m avgPartyMemberRatio }
         jointMeetingsLast90d designationCount national: designationCount(level: NATIONAL_TYPICAL_CASE) candidates: designationCount(level: CANDIDATE) }
       ... on District { code committeeStats { communities withPMC none } jointMeetingsLast90d }`,
      [{ __typename: 'City', code: '320100' }, { __typename: 'City', code: '320700' }, { __typename: 'District', code: '320706' }, { __typename: 'District', code: '999999' }],
    );
    expect(res._entities).toEqual([
      {
        code: '320100',
        committeeStats: { communities: 2, withOwnersCommittee: 1, withPMC: 1, none: 0, active: 2, expiredTerms: 0, disclosedLast12m: 0, avgPartyMemberRatio: null },
        jointMeetingsLast90d: 0, designationCount: 2, national: 2, candidates: 0,
      },
      {
        code: '320700',
        committeeStats: { communities: 2, withOwnersCommittee: 1, withPMC: 0, none: 1, active: 1, expiredTerms: 0, disclosedLast12m: 0, avgPartyMemberRatio: null },
        jointMeetingsLast90d: 0, designationCount: 2, national: 2, candidates: 0, // a city-level target is not a designated 小区
      },
      { code: '320706', committeeStats: { communities: 2, withPMC: 0, none: 1 }, jointMeetingsLast90d: 0 },
      { code: '999999', committeeStats: { communities: 0, withPMC: 0, none: 0 }, jointMeetingsLast90d: 0 },
    ]);
  });

  it('lists the 小区 with a party alliance for the compliance view', async () => {
    const res = await g.q(`{ all: allianceCommunities { id } lyg: allianceCommunities(cityCode: "320700") { id jointMeetingsLast3m compliant: meetsCadence(perMonth: 1) } }`);
    expect(res.all).toEqual([{ id: DEMO.yijiang }, { id: DEMO.dongfang }].sort((a, b) => a.id.localeCompare(b.id)));
    expect(res.lyg).toEqual([{ id: DEMO.dongfang, jointMeetingsLast3m: 0, compliant: false }]);
  });

  it('exposes personal data only behind a token: anonymous reads of members and reporters get null + UNAUTHENTICATED', async () => {
    // Members and reporters are @pii fields (lib/auth, docs/access.md); the access matrix covers every role.
    const bad = await g.raw(`{ committee(id: "cmt_yijiang_pmc") { members { name } } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((bad.data as { committee?: { members?: unknown } } | null | undefined)?.committee?.members ?? null).toBeNull();
  });

  it('seeding twice creates no duplicates', async () => {
    await subgraph.seed(g.conn);
    const res = await g.q(`{ designations { id } subsidyPolicies { id } }`);
    expect(res.designations).toHaveLength(5);
    expect(res.subsidyPolicies).toHaveLength(1);
    expect(await subgraph.isEmpty(g.conn)).toBe(false);
  });

  it('answers /health with the database status', async () => {
    const res = await fetch(g.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', service: 'governance' });
  });
});
