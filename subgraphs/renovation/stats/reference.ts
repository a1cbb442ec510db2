/**
 * The raw-row reference of the renovation statistics: today's aggregations over the projects and
 * facility rows, recomputed on every call. Only tests use it, to check that the rollup reads
 * (stats/read.ts) answer exactly alike; statistics resolvers never call it.
 */
import type { PipelineStage } from 'mongoose';
import { cstMonth, type MonthWindow } from '../../../lib/clock';
import { FUNDING_TYPES, ITEM_CLASSES, PROJECT_STATUSES, type Models, type ProjectDoc } from '../models';
import { lateExpr } from '../services/lateness';
import { emptyStats, roundHalfEven, type AreaLevel, type FundingTotalRow, type GapRow, type StatsRow, type SummaryRow, type TrendMonthRow } from './types';

const known = (field: string) => ({ $ne: [{ $ifNull: [field, null] }, null] });

export function createReference(m: Models) {
  return {
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
    async areaStats(level: AreaLevel, codes: readonly string[], year: number | null, now: Date): Promise<StatsRow[]> {
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
        totals: (Omit<StatsRow, 'code' | 'year' | 'byStatus' | 'byFundingSource' | 'byItemClass' | 'costPerHouseholdFen'> & { _id: string; cphBudget: number; cphHouseholds: number })[];
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
          // Σ budget / Σ households over projects where both are known, halves to even ($round).
          costPerHouseholdFen: t.cphHouseholds > 0 ? roundHalfEven(t.cphBudget, t.cphHouseholds) : null,
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

    /**
     * Monthly spend (by the CST month of each spend's date) and the known budget of the projects of
     * each month's plan year, per area (CITY / DISTRICT codes, or COMMUNITY ids), over `windows`.
     */
    async trends(level: AreaLevel | 'COMMUNITY', codes: readonly string[], windows: readonly MonthWindow[]): Promise<Map<string, TrendMonthRow[]>> {
      const field = level === 'CITY' ? 'cityCode' : level === 'DISTRICT' ? 'districtCodes' : 'communityIds';
      const projects = await m.Project.find({ [field]: { $in: [...codes] } }, { cityCode: 1, planYear: 1, budgetFen: 1, budgetApprox: 1, spends: 1, districtCodes: 1, communityIds: 1 }).lean<ProjectDoc[]>();
      const out = new Map<string, TrendMonthRow[]>();
      for (const code of codes) {
        // A project listing the area twice counts twice (as the aggregations' $unwind would).
        const weight = (p: ProjectDoc) => (level === 'CITY' ? (p.cityCode === code ? 1 : 0) : ((level === 'DISTRICT' ? p.districtCodes : p.communityIds) ?? []).filter((x) => x === code).length);
        const spentByMonth = new Map<string, number>();
        const budgetByYear = new Map<number, { fen: number; approx: boolean }>();
        for (const p of projects) {
          const w = weight(p);
          if (!w) continue;
          for (const s of p.spends ?? []) {
            if (!s.at) continue;
            const month = cstMonth(new Date(s.at));
            spentByMonth.set(month, (spentByMonth.get(month) ?? 0) + w * s.amountFen);
          }
          const b = budgetByYear.get(p.planYear) ?? { fen: 0, approx: false };
          budgetByYear.set(p.planYear, { fen: b.fen + w * (p.budgetFen ?? 0), approx: b.approx || p.budgetApprox === true });
        }
        out.set(
          code,
          windows.map(({ month }) => {
            const year = Number(month.slice(0, 4));
            let ytd = 0;
            for (const [k, fen] of spentByMonth) if (k.startsWith(`${year}-`) && k <= month) ytd += fen;
            const b = budgetByYear.get(year) ?? { fen: 0, approx: false };
            return { month, spentFen: spentByMonth.get(month) ?? 0, spentYearToDateFen: ytd, budgetFen: b.fen, budgetApprox: b.approx };
          }),
        );
      }
      return out;
    },
  };
}
export type Reference = ReturnType<typeof createReference>;
