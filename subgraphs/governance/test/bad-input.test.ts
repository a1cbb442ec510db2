/**
 * Bad input for every governance mutation: missing or malformed fields, unknown ids and values out
 * of range are refused with BAD_USER_INPUT (or NOT_FOUND for an unknown id) naming the argument in
 * `extensions.field`, and nothing is written.
 */
import { DAY_MS, now } from '../../../lib/clock';
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { DEMO } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let g: GovernanceUnderTest;
let m: Models;
let ticketId: string;
let reportId: string;
/** The run's "now": startGovernance freezes the product clock (and the subgraph's) here. */
const START = now();
/** A day after the clock (beyond the tolerated skew): always in the future for the subgraph. */
const FUTURE = new Date(START.getTime() + DAY_MS).toISOString();
/** A valid past instant for the meeting cases refused for another argument. */
const PAST = new Date(START.getTime() - 20 * DAY_MS).toISOString();

beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, START.toISOString());
  m = registerModels(g.conn);
  ticketId = (await g.q(`mutation { createServiceTicket(input: { communityId: "${DEMO.ruijin}", serviceCode: FEE, channel: HOTLINE_12345, description: "物业费" }) { id } }`))
    .createServiceTicket.id;
  reportId = (await g.q(`mutation { recordPatrolReport(input: { communityId: "${DEMO.yijiang}", issueType: CLUTTER, photos: ["https://img.example.invalid/1.jpg"] }) { id } }`))
    .recordPatrolReport.id;
});
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

/** Everything a mutation could write: document counts plus the ticket's and report's state. */
async function snapshot() {
  const [tickets, reports, meetings, rubrics, ticket, report] = await Promise.all([
    m.Ticket.countDocuments({}).exec(),
    m.PatrolReport.countDocuments({}).exec(),
    m.Meeting.countDocuments({}).exec(),
    m.Rubric.countDocuments({}).exec(),
    m.Ticket.findById(ticketId).lean().exec(),
    m.PatrolReport.findById(reportId).lean().exec(),
  ]);
  return JSON.stringify({ tickets, reports, meetings, rubrics, ticket, report });
}

async function refused(mutation: string, code: 'BAD_USER_INPUT' | 'NOT_FOUND', field: string) {
  const before = await snapshot();
  const res = await g.raw(`mutation { ${mutation} }`);
  expect(res.data).toBeNull();
  expect(res.errors?.[0]?.extensions).toMatchObject({ code, field });
  expect(res.errors?.[0]?.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `));
  expect(JSON.stringify(res.errors)).not.toMatch(/stack|at .*\.ts/);
  expect(await snapshot()).toBe(before);
}

/** createServiceTicket with a valid input in which `fields` replace or add arguments. */
function ticket(fields: string): string {
  const base: Record<string, string> = { communityId: `"${DEMO.ruijin}"`, serviceCode: 'FEE', channel: 'HOTLINE_12345', description: '"物业费"' };
  const [k, ...rest] = fields.split(': ');
  base[k] = rest.join(': ').replace('<4001 characters>', '长'.repeat(4001));
  return `createServiceTicket(input: { ${Object.entries(base).map(([key, v]) => `${key}: ${v}`).join(', ')} }) { id }`;
}

describe('governance mutations refuse bad input, naming the field, and write nothing', () => {
  it.each([
    ['communityId: "cm_nowhere"', 'NOT_FOUND', 'communityId'],
    ['description: "   "', 'BAD_USER_INPUT', 'description'],
    ['description: "<4001 characters>"', 'BAD_USER_INPUT', 'description'],
    ['location: { lat: 91, long: 118.7 }', 'BAD_USER_INPUT', 'location.lat'],
    ['location: { lat: 32, long: 181 }', 'BAD_USER_INPUT', 'location.long'],
    ['mediaUrls: ["ftp://example.invalid/a.jpg"]', 'BAD_USER_INPUT', 'mediaUrls'],
    [`requestedAt: "${FUTURE}"`, 'BAD_USER_INPUT', 'requestedAt'],
    ['clientKey: "has spaces in it"', 'BAD_USER_INPUT', 'clientKey'],
    ['jurisdictionId: "lianyungang"', 'BAD_USER_INPUT', 'jurisdictionId'],
  ] as const)('createServiceTicket with %s', async (fields, code, field) => {
    await refused(ticket(fields), code, field);
  });

  it.each([
    [`id: "tk_nowhere", to: DISPATCHED, assigneeOrg: "街道物业办"`, 'NOT_FOUND', 'id'],
    ['to: RESOLVED', 'BAD_USER_INPUT', 'to'],
    ['to: DISPATCHED', 'BAD_USER_INPUT', 'assigneeOrg'],
    ['to: DISPATCHED, assigneeOrg: "街道物业办", satisfaction: SATISFIED', 'BAD_USER_INPUT', 'satisfaction'],
    ['to: DISPATCHED, assigneeOrg: "街道物业办", deferWorkingDays: 3', 'BAD_USER_INPUT', 'deferWorkingDays'],
    [`to: DISPATCHED, assigneeOrg: "街道物业办", at: "${FUTURE}"`, 'BAD_USER_INPUT', 'at'],
    ['to: DISPATCHED, assigneeOrg: "街道物业办", at: "2020-01-01T00:00:00Z"', 'BAD_USER_INPUT', 'at'],
    ['to: CANCELLED', 'BAD_USER_INPUT', 'note'],
  ] as const)('transitionTicket with %s', async (fields, code, field) => {
    const input = fields.startsWith('id:') ? fields : `id: "${ticketId}", ${fields}`;
    await refused(`transitionTicket(input: { ${input} }) { id }`, code, field);
  });

  it.each([
    ['id: "tk_nowhere", text: "备注"', 'NOT_FOUND', 'id'],
    ['text: "  "', 'BAD_USER_INPUT', 'text'],
  ] as const)('addTicketNote with %s', async (args, code, field) => {
    const a = args.startsWith('id:') ? args : `id: "${ticketId}", ${args}`;
    await refused(`addTicketNote(${a}) { id }`, code, field);
  });

  it.each([
    [`communityId: "cm_nowhere", issueType: CLUTTER, photos: ["https://img.example.invalid/2.jpg"]`, 'NOT_FOUND', 'communityId'],
    [`communityId: "${DEMO.yijiang}", issueType: CLUTTER, photos: []`, 'BAD_USER_INPUT', 'photos'],
    [`communityId: "${DEMO.yijiang}", issueType: CLUTTER, photos: ["not a url"]`, 'BAD_USER_INPUT', 'photos'],
    [`communityId: "${DEMO.yijiang}", issueType: CLUTTER, photos: ["https://img.example.invalid/2.jpg"], reportedAt: "${FUTURE}"`, 'BAD_USER_INPUT', 'reportedAt'],
    [`communityId: "${DEMO.yijiang}", issueType: CLUTTER, photos: ["https://img.example.invalid/2.jpg"], teamId: "pt_nowhere"`, 'NOT_FOUND', 'teamId'],
    [`communityId: "${DEMO.ruijin}", issueType: CLUTTER, photos: ["https://img.example.invalid/2.jpg"], teamId: "pt_yijiang_zhaocha"`, 'BAD_USER_INPUT', 'teamId'],
  ] as const)('recordPatrolReport with %s', async (input, code, field) => {
    await refused(`recordPatrolReport(input: { ${input} }) { id }`, code, field);
  });

  it.each([
    ['reportId: "pr_nowhere"', 'NOT_FOUND', 'reportId'],
    ['rectifiedAt: "2020-01-01T00:00:00Z"', 'BAD_USER_INPUT', 'rectifiedAt'],
    [`rectifiedAt: "${FUTURE}"`, 'BAD_USER_INPUT', 'rectifiedAt'],
    ['photos: ["javascript:alert(1)"]', 'BAD_USER_INPUT', 'photos'],
  ] as const)('recordRectification with %s', async (input, code, field) => {
    const i = input.startsWith('reportId:') ? input : `reportId: "${reportId}", ${input}`;
    await refused(`recordRectification(input: { ${i} }) { id }`, code, field);
  });

  it.each([
    [`communityId: "cm_nowhere", heldAt: "${PAST}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: [SANITATION]`, 'NOT_FOUND', 'communityId'],
    [`communityId: "${DEMO.dongfang}", heldAt: "${PAST}", participantOrgTypes: [STREET, STREET], topics: [SANITATION]`, 'BAD_USER_INPUT', 'participantOrgTypes'],
    [`communityId: "${DEMO.dongfang}", heldAt: "${PAST}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: []`, 'BAD_USER_INPUT', 'topics'],
    [`communityId: "${DEMO.dongfang}", heldAt: "${FUTURE}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: [SANITATION]`, 'BAD_USER_INPUT', 'heldAt'],
    [`communityId: "${DEMO.dongfang}", heldAt: "${PAST}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: [SANITATION], followUpTicketIds: ["TICKET"]`, 'BAD_USER_INPUT', 'followUpTicketIds'],
    [`communityId: "${DEMO.dongfang}", heldAt: "${PAST}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: [SANITATION], resolutions: [" "]`, 'BAD_USER_INPUT', 'resolutions[0]'],
  ] as const)('recordJointMeeting with %s', async (input, code, field) => {
    // followUpTicketIds: a ticket of another 小区 (瑞金新村's).
    await refused(`recordJointMeeting(input: { ${input.replace('"TICKET"', `"${ticketId}"`)} }) { id }`, code, field);
  });

  const W = (p: number, c: number, s: number, r: number, e: number) =>
    `[{ dimension: PARTY_LEADERSHIP, weight: ${p} }, { dimension: COMMITTEE_GOVERNANCE, weight: ${c} }, { dimension: SERVICE_QUALITY, weight: ${s} },
      { dimension: RESIDENT_PARTICIPATION, weight: ${r} }, { dimension: ENVIRONMENT_SAFETY, weight: ${e} }]`;
  it.each([
    [`id: "bad id!", name: "x", weights: ${W(0.2, 0.2, 0.2, 0.2, 0.2)}`, 'id'],
    [`id: "rb_x", name: "", weights: ${W(0.2, 0.2, 0.2, 0.2, 0.2)}`, 'name'],
    [`id: "rb_x", name: "x", weights: ${W(0.2, 0.2, 0.3, 0.3, 0.3)}`, 'weights'],
    [`id: "rb_x", name: "x", weights: ${W(0.3, 0.1, 0.2, 0.2, 0.2)}`, 'weights'],
    [`id: "rb_x", name: "x", weights: ${W(0.2, 0.2, 1.2, -0.4, 0.2)}`, 'weights'],
  ] as const)('upsertEvaluationRubric with %s', async (input, field) => {
    await refused(`upsertEvaluationRubric(input: { ${input} }) { id }`, 'BAD_USER_INPUT', field);
  });
});
