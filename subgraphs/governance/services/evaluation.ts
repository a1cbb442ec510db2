/**
 * Reads governance's own evidence for a 小区 (through the request's DataLoaders, so a list of 小区
 * costs one query per kind of record), joins it with the @requires fields the gateway sent, and
 * scores it under a rubric. Also the joint-meeting cadence rule.
 */
import { daysBefore } from '../../../lib/clock';
import { badInput, notFound } from '../../../lib/errors';
import type { Context } from '../context';
import type { CommitteeDoc, CommunityRef, EvaluationDoc } from '../models';
import { publicScoreOf } from './privacy';
import { EVALUATION_BASIS } from './repository';
import { DEFAULT_RUBRIC, DEFAULT_RUBRIC_ID, DIMENSIONS, evaluate, type Dimension, type EvaluationRow, type Evidence, type RubricDef } from './rubric';

export interface ComplianceRow {
  requiredPerMonth: number;
  months: { month: string; held: number; compliant: boolean }[];
  compliantMonths: number;
  meetsCadence: boolean;
  hasRecords: boolean;
}

export interface CandidateRow {
  rank: number;
  evaluation: EvaluationDoc;
}

export const MAX_COMPLIANCE_MONTHS = 24;
/** The general joint-meeting cadence rule (docs/domain.md, "Rules behind the workflows": requiredPerMonth = 1). */
export const DEFAULT_MEETINGS_PER_MONTH = 1;

/** The committee that counts for a 小区: the active one, else the latest. */
export function currentCommittee(list: readonly CommitteeDoc[]): CommitteeDoc | null {
  return list.find((c) => c.status === 'ACTIVE') ?? list[0] ?? null;
}

export async function loadRubric(ctx: Context, id: string | null | undefined): Promise<RubricDef> {
  if (id == null || id === DEFAULT_RUBRIC_ID) return DEFAULT_RUBRIC;
  const doc = await ctx.loaders.rubric.load(id);
  if (!doc) throw notFound(`evaluation rubric ${id}`);
  return {
    id: doc._id,
    name: doc.name,
    isDefault: false,
    weights: (doc.weights ?? []).filter((w) => DIMENSIONS.includes(w.dimension as Dimension)).map((w) => ({ dimension: w.dimension as Dimension, weight: w.weight })),
  };
}

/**
 * Joint-meeting compliance over the last `months` complete CST months. `perMonth` defaults to the
 * alliance's rule (or the general rule when the alliance states none); null without an alliance.
 */
export async function compliance(ctx: Context, communityId: string, perMonth: number | null | undefined, months: number | null | undefined): Promise<ComplianceRow | null> {
  const n = months ?? 3;
  if (!Number.isInteger(n) || n < 1 || n > MAX_COMPLIANCE_MONTHS) throw badInput('months', `must be an integer between 1 and ${MAX_COMPLIANCE_MONTHS}`);
  if (perMonth != null && (!Number.isInteger(perMonth) || perMonth < 1 || perMonth > 31)) throw badInput('perMonth', 'must be an integer between 1 and 31');
  let rule = perMonth ?? null;
  if (rule == null) {
    const alliance = (await ctx.loaders.alliancesByCommunity.load(communityId))[0];
    if (!alliance) return null;
    rule = alliance.requiredMeetingsPerMonth ?? DEFAULT_MEETINGS_PER_MONTH;
  }
  const data = await ctx.loaders.meetingMonths.load({ code: communityId, months: n });
  const rows = data.months.map((m) => ({ ...m, compliant: m.held >= (rule as number) }));
  const compliantMonths = rows.filter((r) => r.compliant).length;
  return { requiredPerMonth: rule, months: rows, compliantMonths, meetsCadence: compliantMonths === rows.length, hasRecords: data.hasRecords };
}

/** Co-governance topics of a 小区: those on record plus those of its joint meetings, in enum order. */
export async function coGovernanceTopics(ctx: Context, communityId: string, order: readonly string[]): Promise<string[]> {
  const [reg, meetings] = await Promise.all([
    ctx.loaders.register.load(communityId),
    ctx.loaders.meetingsByCommunity.load({ code: communityId, range: 'ALL' }),
  ]);
  const set = new Set<string>([...(reg?.coGovernanceTopics ?? []), ...meetings.flatMap((m) => m.topics ?? [])]);
  return order.filter((t) => set.has(t));
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function collectEvidence(ctx: Context, ref: CommunityRef, topicOrder: readonly string[]): Promise<Evidence> {
  const id = ref.id;
  const l = ctx.loaders;
  const [orgs, alliances, committees, teams, activities, tickets, patrol, topics] = await Promise.all([
    l.partyOrgsByCommunity.load(id),
    l.alliancesByCommunity.load(id),
    l.committeesByCommunity.load(id),
    l.patrolTeamsByCommunity.load(id),
    l.activitiesByCommunity.load(id),
    l.ticketStats.load({ code: id, scope: 'COMMUNITY', range: 'LAST_12M', groupBy: null }),
    l.patrolStats.load({ code: id, scope: 'COMMUNITY', range: 'LAST_12M' }),
    coGovernanceTopics(ctx, id, topicOrder),
  ]);
  const alliance = alliances[0];
  const cadence = await compliance(ctx, id, alliance?.requiredMeetingsPerMonth ?? DEFAULT_MEETINGS_PER_MONTH, 3);
  const c = currentCommittee(committees);
  const yearAgo = daysBefore(ctx.now, 365).getTime();
  return {
    hasPartyOrganization: orgs.length > 0,
    hasAlliance: alliances.length > 0,
    jointMeetingComplianceShare: cadence && cadence.hasRecords ? cadence.compliantMonths / cadence.months.length : null,
    committee: c
      ? {
          active: c.status === 'ACTIVE',
          termExpired: c.termEnd != null && new Date(c.termEnd).getTime() < ctx.now.getTime(),
          lastDisclosureAt: c.lastDisclosureAt ? new Date(c.lastDisclosureAt) : null,
          partyMemberRatio: c.partyMemberRatio ?? null,
          meetingsLast12m: (c.meetingDates ?? []).filter((d) => new Date(d).getTime() >= yearAgo).length,
        }
      : null,
    ticketSatisfiedRate: tickets.satisfiedRate,
    ticketOnTimeRate: tickets.onTimeRate,
    hasPatrolTeam: teams.length > 0,
    activityCount: activities.length,
    patrolRectifiedWithin48hRate: patrol.rectifiedWithin48hRate,
    coGovernanceTopics: topics,
    feeAmountRate: finite(ref.feeCollection?.amountRate),
    satisfactionPercent: finite(ref.latestSatisfaction?.percent),
    elderlyMonthlyVisitRate: finite(ref.elderlyStats?.monthlyVisitRate),
    renovationStatus: typeof ref.renovationSummary?.status === 'string' ? ref.renovationSummary.status : null,
  };
}

/** Scores a 小区 under a rubric (per request; nothing is stored). */
export async function evaluateCommunity(ctx: Context, ref: CommunityRef, rubricId: string | null | undefined, topicOrder: readonly string[]): Promise<EvaluationRow> {
  const rubric = await loadRubric(ctx, rubricId);
  const evidence = await collectEvidence(ctx, ref, topicOrder);
  return evaluate(rubric, evidence, ctx.now);
}

export interface ScoreRun {
  rubricId: string;
  cityCode: string;
  districtCode: string | null;
  recorded: number;
  evaluatedAt: Date;
}

/** 小区 scored per batch: their evidence loads in one query per kind of record. */
export const SCORE_BATCH = 500;
const CITY_CODE = /^\d{4}00$/;
const DISTRICT_CODE = /^\d{6}$/;

/**
 * Scores every 小区 of the register in a city (or one district) from governance's own records and
 * stores the results (`recordBeautifulHomeScores`). The representation of each 小区 is its id alone:
 * nothing the caller sends, so the other bureaus' indicators have no evidence and `coverage` says
 * so. Bad input is refused before anything is written.
 */
export async function recordScores(
  ctx: Context,
  args: { cityCode: string; districtCode?: string | null; rubricId?: string | null },
  topicOrder: readonly string[],
): Promise<ScoreRun> {
  const cityCode = args.cityCode.trim();
  if (!CITY_CODE.test(cityCode)) throw badInput('cityCode', 'must be a 6-digit city code ending in 00 (GB/T 2260)');
  const districtCode = args.districtCode == null ? null : args.districtCode.trim();
  if (districtCode != null && (!DISTRICT_CODE.test(districtCode) || districtCode.slice(0, 4) !== cityCode.slice(0, 4) || districtCode === cityCode)) {
    throw badInput('districtCode', `must be the 6-digit code of a district of city ${cityCode}`);
  }
  let rubric: RubricDef;
  try {
    rubric = await loadRubric(ctx, args.rubricId);
  } catch (e) {
    if ((e as { extensions?: { code?: string } }).extensions?.code === 'NOT_FOUND') throw badInput('rubricId', `no evaluation rubric ${args.rubricId}`);
    throw e;
  }
  const ids = await ctx.repo.communityIdsInArea(cityCode, districtCode);
  if (!ids.length) throw badInput(districtCode ? 'districtCode' : 'cityCode', `governance's register has no 小区 in ${districtCode ?? cityCode}`);
  for (let i = 0; i < ids.length; i += SCORE_BATCH) {
    const batch = ids.slice(i, i + SCORE_BATCH);
    const rows = await Promise.all(batch.map(async (id) => evaluate(rubric, await collectEvidence(ctx, { id }, topicOrder), ctx.now)));
    await ctx.repo.upsertEvaluations(
      rows.map((row, j) => ({
        ...publicScoreOf(row),
        _id: `${rubric.id}:${batch[j]}`,
        rubricId: rubric.id,
        communityId: batch[j],
        cityCode,
        score: row.score,
        coverage: row.coverage,
        breakdown: row.breakdown,
        evaluatedAt: row.evaluatedAt,
        basis: EVALUATION_BASIS,
      })),
    );
  }
  return { rubricId: rubric.id, cityCode, districtCode, recorded: ids.length, evaluatedAt: ctx.now };
}
