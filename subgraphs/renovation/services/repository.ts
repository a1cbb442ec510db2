/**
 * Read-side data access of the renovation subgraph. Every function is a batch: it takes many keys
 * and answers with one database command, so DataLoaders in the context can sit in front of it.
 * Aggregates (summaries, statistics, gap counts) are computed by the database.
 */
import type { PipelineStage } from 'mongoose';
import { now as clockNow } from '../../../lib/clock';
import { FUNDING_TYPES, ITEM_CLASSES, PROJECT_STATUSES, type FacilityDoc, type Models, type ProjectDoc } from '../models';
import { lateExpr, lateFilter } from './lateness';

export type AreaLevel = 'CITY' | 'DISTRICT';
export interface AreaRef {
  code: string;
}
export interface CommunityRef {
  id: string;
}

export interface FundingTotalRow {
  type: string;
  committedFen: number;
  committedApprox: boolean;
  confirmedFen: number;
  spentFen: number;
}
export interface ItemClassRow {
  class: string;
  items: number;
  costFen: number;
  costApprox: boolean;
}
export interface StatusCountRow {
  status: string;
  count: number;
}
export interface StatsRow {
  code: string;
  year: number | null;
  projects: number;
  projectsWithBudget: number;
  budgetFen: number;
  budgetApprox: boolean;
  spentFen: number;
  households: number;
  costPerHouseholdFen: number | null;
  lateProjects: number;
  byStatus: StatusCountRow[];
  byFundingSource: FundingTotalRow[];
  byItemClass: ItemClassRow[];
}
export interface SummaryRow {
  communityId: string;
  projects: number;
  status: string | null;
  latestProjectYear: number | null;
  budgetFen: number;
  budgetApprox: boolean;
  projectsWithBudget: number;
  spentFen: number;
}
export interface GapRow {
  code: string;
  type: string;
  missing: number;
  broken: number;
  communities: number;
}

export interface ProjectFilter {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  year?: number | null;
  status?: readonly string[] | null;
  sponsor?: string | null;
  lateOnly?: boolean | null;
}
export interface FacilityFilter {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  type?: readonly string[] | null;
  condition?: readonly string[] | null;
}

export const emptyStats = (code: string, year: number | null): StatsRow => ({
  code,
  year,
  projects: 0,
  projectsWithBudget: 0,
  budgetFen: 0,
  budgetApprox: false,
  spentFen: 0,
  households: 0,
  costPerHouseholdFen: null,
  lateProjects: 0,
  byStatus: [],
  byFundingSource: [],
  byItemClass: [],
});

const known = (field: string) => ({ $ne: [{ $ifNull: [field, null] }, null] });

function projectQuery(f: ProjectFilter, now: Date): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.cityCode) q.cityCode = f.cityCode;
  if (f.districtCode) q.districtCodes = f.districtCode;
  if (f.communityId) q.communityIds = f.communityId;
  if (f.year != null) q.planYear = f.year;
  if (f.status?.length) q.status = { $in: [...f.status] };
  if (f.sponsor) q.sponsor = f.sponsor;
  if (f.lateOnly) Object.assign(q, lateFilter(now));
  return q;
}

function facilityQuery(f: FacilityFilter): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.cityCode) q.cityCode = f.cityCode;
  if (f.districtCode) q.districtCode = f.districtCode;
  if (f.communityId) q.communityId = f.communityId;
  if (f.type?.length) q.type = { $in: [...f.type] };
  if (f.condition?.length) q.condition = { $in: [...f.condition] };
  return q;
}

/**
 * `clock` gives "now" for the late flags: the product clock (lib/clock.ts) unless a test pins one
 * through the context options.
 */
export function createRepository(m: Models, clock: () => Date = clockNow) {
  return {
    now: clock,
    projectsById: (ids: readonly string[]) => m.Project.find({ _id: { $in: ids } }).lean<ProjectDoc[]>(),
    projectsByCommunity: (ids: readonly string[]) =>
      m.Project.find({ communityIds: { $in: ids } }).sort({ planYear: -1, _id: 1 }).lean<ProjectDoc[]>(),
    facilitiesByCommunity: (ids: readonly string[]) =>
      m.Facility.find({ communityId: { $in: ids } }).sort({ communityId: 1, type: 1, buildingId: 1 }).lean<FacilityDoc[]>(),

    /** Per-小区 renovation summary (latest project first), for many 小区 in one aggregation. */
    async summaries(ids: readonly string[]): Promise<SummaryRow[]> {
      return m.Project.aggregate<Omit<SummaryRow, 'communityId'> & { _id: string }>([
        { $match: { communityIds: { $in: [...ids] } } },
        { $project: { communityIds: 1, planYear: 1, status: 1, budgetFen: 1, budgetApprox: 1, spentFen: 1 } },
        { $unwind: '$communityIds' },
        { $match: { communityIds: { $in: [...ids] } } },
        { $sort: { communityIds: 1, planYear: -1, _id: 1 } },
        {
          $group: {
            _id: '$communityIds',
            projects: { $sum: 1 },
            status: { $first: '$status' },
            latestProjectYear: { $max: '$planYear' },
            budgetFen: { $sum: { $ifNull: ['$budgetFen', 0] } },
            budgetApprox: { $max: { $cond: [{ $eq: ['$budgetApprox', true] }, true, false] } },
            projectsWithBudget: { $sum: { $cond: [known('$budgetFen'), 1, 0] } },
            spentFen: { $sum: { $ifNull: ['$spentFen', 0] } },
          },
        },
      ]).then((rows) => rows.map(({ _id, ...row }) => ({ ...row, communityId: _id })));
    },

    /**
     * Renovation statistics per city or district for one plan year (or all years), for many areas
     * in ONE aggregation: totals, by status, by funding source (committed, confirmed, spent) and by
     * item class. A project covering 小区 in two districts counts in both districts.
     */
    async areaStats(level: AreaLevel, codes: readonly string[], year: number | null, now = clock()): Promise<StatsRow[]> {
      const field = level === 'CITY' ? 'cityCode' : 'districtCodes';
      const match: Record<string, unknown> = { [field]: { $in: [...codes] } };
      if (year != null) match.planYear = year;
      // Keep only the fields the statistics read before any $unwind: unwinding whole project
      // documents (milestones and all) costs far more than this one projection.
      const stages: PipelineStage[] = [
        { $match: match },
        {
          $project: {
            cityCode: 1,
            districtCodes: 1,
            status: 1,
            budgetFen: 1,
            budgetApprox: 1,
            spentFen: 1,
            'scope.households': 1,
            hasLateDoneMilestone: 1,
            earliestOpenPlannedAt: 1,
            'fundingSources.type': 1,
            'fundingSources.amountFen': 1,
            'fundingSources.amountApprox': 1,
            'fundingSources.confirmed': 1,
            'spends.type': 1,
            'spends.amountFen': 1,
            'items.class': 1,
            'items.costFen': 1,
            'items.costApprox': 1,
          },
        },
      ];
      if (level === 'DISTRICT') stages.push({ $unwind: '$districtCodes' }, { $match: { districtCodes: { $in: [...codes] } } });
      const both = { $and: [known('$budgetFen'), { $gt: [{ $ifNull: ['$scope.households', 0] }, 0] }] };
      const k = level === 'CITY' ? '$cityCode' : '$districtCodes';
      const totalFields = ['projects', 'projectsWithBudget', 'budgetFen', 'budgetApprox', 'spentFen', 'households', 'lateProjects'];
      stages.push({
        $facet: {
          totals: [
            {
              $group: {
                _id: k,
                projects: { $sum: 1 },
                projectsWithBudget: { $sum: { $cond: [known('$budgetFen'), 1, 0] } },
                budgetFen: { $sum: { $ifNull: ['$budgetFen', 0] } },
                budgetApprox: { $max: { $cond: [{ $eq: ['$budgetApprox', true] }, true, false] } },
                spentFen: { $sum: { $ifNull: ['$spentFen', 0] } },
                households: { $sum: { $ifNull: ['$scope.households', 0] } },
                cphBudget: { $sum: { $cond: [both, '$budgetFen', 0] } },
                cphHouseholds: { $sum: { $cond: [both, '$scope.households', 0] } },
                lateProjects: { $sum: { $cond: [lateExpr(now), 1, 0] } },
              },
            },
            // Cost per household = Σ budget / Σ households over projects where both are known.
            {
              $group: {
                _id: '$_id',
                ...Object.fromEntries(totalFields.map((f) => [f, { $first: `$${f}` }])),
                costPerHouseholdFen: {
                  $first: { $cond: [{ $gt: ['$cphHouseholds', 0] }, { $round: [{ $divide: ['$cphBudget', '$cphHouseholds'] }, 0] }, null] },
                },
              },
            },
          ],
          byStatus: [{ $group: { _id: { k, s: '$status' }, count: { $sum: 1 } } }],
          committed: [
            { $unwind: '$fundingSources' },
            {
              $group: {
                _id: { k, t: '$fundingSources.type' },
                fen: { $sum: '$fundingSources.amountFen' },
                approx: { $max: { $cond: [{ $eq: ['$fundingSources.amountApprox', true] }, true, false] } },
                confirmedFen: { $sum: { $cond: [{ $eq: ['$fundingSources.confirmed', true] }, '$fundingSources.amountFen', 0] } },
              },
            },
          ],
          spent: [{ $unwind: '$spends' }, { $group: { _id: { k, t: '$spends.type' }, fen: { $sum: '$spends.amountFen' } } }],
          items: [
            { $unwind: '$items' },
            {
              $group: {
                _id: { k, c: '$items.class' },
                items: { $sum: 1 },
                costFen: { $sum: { $ifNull: ['$items.costFen', 0] } },
                costApprox: { $max: { $cond: [{ $eq: ['$items.costApprox', true] }, true, false] } },
              },
            },
          ],
        },
      });
      type Facets = {
        totals: (Omit<StatsRow, 'code' | 'year' | 'byStatus' | 'byFundingSource' | 'byItemClass'> & { _id: string })[];
        byStatus: { _id: { k: string; s: string }; count: number }[];
        committed: { _id: { k: string; t: string }; fen: number; approx: boolean; confirmedFen: number }[];
        spent: { _id: { k: string; t: string }; fen: number }[];
        items: { _id: { k: string; c: string }; items: number; costFen: number; costApprox: boolean }[];
      };
      const [f] = await m.Project.aggregate<Facets>(stages);
      // Stitch the database's grouped rows (a handful per area) into one row per area.
      const rows = new Map<string, StatsRow>();
      for (const t of f?.totals ?? []) {
        rows.set(t._id, {
          ...emptyStats(t._id, year),
          projects: t.projects,
          projectsWithBudget: t.projectsWithBudget,
          budgetFen: t.budgetFen,
          budgetApprox: t.budgetApprox,
          spentFen: t.spentFen,
          households: t.households,
          costPerHouseholdFen: t.costPerHouseholdFen ?? null,
          lateProjects: t.lateProjects,
        });
      }
      const order = <T>(list: T[], key: (x: T) => string, ref: readonly string[]) =>
        list.sort((a, b) => ref.indexOf(key(a)) - ref.indexOf(key(b)));
      for (const s of f?.byStatus ?? []) rows.get(s._id.k)?.byStatus.push({ status: s._id.s, count: s.count });
      const funding = new Map<string, FundingTotalRow>();
      const fundingRow = (k: string, t: string) => {
        const key = `${k}|${t}`;
        let r = funding.get(key);
        if (!r) {
          r = { type: t, committedFen: 0, committedApprox: false, confirmedFen: 0, spentFen: 0 };
          funding.set(key, r);
          rows.get(k)?.byFundingSource.push(r);
        }
        return r;
      };
      for (const c of f?.committed ?? []) Object.assign(fundingRow(c._id.k, c._id.t), { committedFen: c.fen, committedApprox: c.approx, confirmedFen: c.confirmedFen });
      for (const s of f?.spent ?? []) fundingRow(s._id.k, s._id.t).spentFen = s.fen;
      for (const i of f?.items ?? []) rows.get(i._id.k)?.byItemClass.push({ class: i._id.c, items: i.items, costFen: i.costFen, costApprox: i.costApprox });
      for (const r of rows.values()) {
        order(r.byStatus, (x) => x.status, PROJECT_STATUSES);
        order(r.byFundingSource, (x) => x.type, FUNDING_TYPES);
        order(r.byItemClass, (x) => x.class, ITEM_CLASSES);
      }
      return [...rows.values()];
    },

    /** MISSING / BROKEN facility counts per type, per city or district, in one aggregation. */
    async gapStats(level: AreaLevel, codes: readonly string[]): Promise<GapRow[]> {
      const field = level === 'CITY' ? 'cityCode' : 'districtCode';
      return m.Facility.aggregate<Omit<GapRow, 'code' | 'type'> & { _id: { k: string; t: string } }>([
        { $match: { [field]: { $in: [...codes] }, condition: { $in: ['MISSING', 'BROKEN'] } } },
        {
          $group: {
            _id: { k: `$${field}`, t: '$type' },
            missing: { $sum: { $cond: [{ $eq: ['$condition', 'MISSING'] }, 1, 0] } },
            broken: { $sum: { $cond: [{ $eq: ['$condition', 'BROKEN'] }, 1, 0] } },
            communityIds: { $addToSet: '$communityId' },
          },
        },
        { $group: { _id: '$_id', missing: { $first: '$missing' }, broken: { $first: '$broken' }, communities: { $first: { $size: '$communityIds' } } } },
        { $sort: { '_id.k': 1, '_id.t': 1 } },
      ]).then((rows) => rows.map(({ _id, ...row }) => ({ ...row, code: _id.k, type: _id.t })));
    },

    /** One page of projects by id, plus the total count. */
    async projectPage(filter: ProjectFilter, first: number, after: string | null, now = clock()) {
      const q = projectQuery(filter, now);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        m.Project.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<ProjectDoc[]>(),
        m.Project.countDocuments(q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },

    /** One page of facility rows by id, plus the total count. */
    async facilityPage(filter: FacilityFilter, first: number, after: string | null) {
      const q = facilityQuery(filter);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        m.Facility.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<FacilityDoc[]>(),
        m.Facility.countDocuments(q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
