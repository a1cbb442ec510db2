/**
 * Per-request DataLoaders of the governance subgraph: every `__resolveReference` and every hop from
 * a list to related records goes through one of these, so a list of N 小区 costs one query per
 * field, not N. Loaders whose key carries arguments batch all keys with the same arguments.
 */
import { lastCompleteMonths, rangeStart, type TimeRange } from '../../lib/clock';
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { CommitteeStatsRaw, GroupBy, Repository, StatsScope, TicketFilterInput } from './services/repository';
import { emptyCommitteeStats, toPatrolStats, toTicketStats, type PatrolStatsRow, type TicketStatsRow } from './services/stats';
import type { StatsReader, TicketMonthRow } from './stats';

/**
 * A loader for keys `{ code, ...args }`: keys with equal args share one `fetch(codes, args)`; a
 * key the fetch does not answer gets `fallback(key)`.
 */
function argsLoader<K extends { code: string }, R>(fetch: (codes: string[], args: K) => Promise<Map<string, R>>, fallback: (k: K) => R) {
  const sigOf = (k: K) => {
    const { code: _code, ...rest } = k;
    return JSON.stringify(rest);
  };
  return keyedLoader<K, R>(async (keys) => {
    const groups = new Map<string, { args: K; codes: string[] }>();
    for (const k of keys) {
      const sig = sigOf(k);
      const g = groups.get(sig) ?? { args: k, codes: [] };
      g.codes.push(k.code);
      groups.set(sig, g);
    }
    const results = new Map<string, R>();
    await Promise.all(
      [...groups].map(async ([sig, g]) => {
        for (const [code, r] of await fetch(g.codes, g.args)) results.set(`${sig}\u0000${code}`, r);
      }),
    );
    return keys.map((k) => results.get(`${sigOf(k)}\u0000${k.code}`) ?? fallback(k));
  });
}

export interface MonthCompliance {
  months: { month: string; held: number }[];
  hasRecords: boolean;
}

export function createLoaders(repo: Repository, stats: StatsReader, now: Date) {
  return {
    register: entityLoader((ids) => repo.communitiesById(ids), (c) => c._id),
    committee: entityLoader((ids) => repo.committeesById(ids), (c) => c._id),
    committeesByCommunity: groupLoader((ids) => repo.committeesByCommunity(ids), (c) => c.communityId),
    alliance: entityLoader((ids) => repo.alliancesById(ids), (a) => a._id),
    alliancesByCommunity: groupLoader((ids) => repo.alliancesByCommunity(ids), (a) => a.communityIds ?? []),
    partyOrgsByCommunity: groupLoader((ids) => repo.partyOrgsByCommunity(ids), (o) => o.communityIds ?? []),
    activitiesByCommunity: groupLoader((ids) => repo.activitiesByCommunity(ids), (a) => a.communityId),
    designation: entityLoader((ids) => repo.designationsById(ids), (d) => d._id),
    designationsByCommunity: groupLoader((ids) => repo.designationsByCommunity(ids), (d) => d.communityId ?? ''),
    policy: entityLoader((ids) => repo.policiesById(ids), (p) => p._id),
    meeting: entityLoader((ids) => repo.meetingsById(ids), (m) => m._id),
    patrolTeam: entityLoader((ids) => repo.patrolTeamsById(ids), (t) => t._id),
    patrolTeamsByCommunity: groupLoader((ids) => repo.patrolTeamsByCommunity(ids), (t) => t.communityId),
    patrolReport: entityLoader((ids) => repo.patrolReportsById(ids), (r) => r._id),
    ticket: entityLoader((ids) => repo.ticketsById(ids), (t) => t._id),
    rubric: entityLoader((ids) => repo.rubricsById(ids), (r) => r._id),
    meetingsByCommunity: argsLoader(
      async (ids, { range }: { code: string; range: TimeRange }) => {
        const rows = await repo.meetingsByCommunity(ids, rangeStart(range, now));
        return group(rows, (r) => r.communityId);
      },
      () => [],
    ),
    /** Meetings per CST month over the last `months` complete months, and whether any is on record. */
    meetingMonths: argsLoader(
      async (ids, { months }: { code: string; months: number }) => {
        const windows = lastCompleteMonths(now, months);
        const [counts, withRecords] = await Promise.all([
          repo.meetingMonthCounts(ids, windows[0].start, windows[windows.length - 1].end),
          repo.communitiesWithMeetings(ids),
        ]);
        const has = new Set(withRecords);
        const held = new Map(counts.map((c) => [`${c.communityId}|${c.month}`, c.n]));
        const out = new Map<string, MonthCompliance>();
        for (const id of ids) {
          out.set(id, {
            months: windows.map((w) => ({ month: w.month, held: held.get(`${id}|${w.month}`) ?? 0 })),
            hasRecords: has.has(id),
          });
        }
        return out;
      },
      () => ({ months: [], hasRecords: false }),
    ),
    meetingsLast90dInArea: argsLoader(
      async (codes, { level }: { code: string; level: 'CITY' | 'DISTRICT' }) =>
        new Map((await stats.meetingCounts(level, codes, rangeStart('LAST_90D', now)!)).map((r) => [r.code, r.n])),
      () => 0,
    ),
    committeeStats: argsLoader<{ code: string; level: 'CITY' | 'DISTRICT' }, CommitteeStatsRaw>(
      async (codes, { level }) => new Map((await stats.committeeStats(level, codes, now)).map((r) => [r.code, r])),
      (k) => emptyCommitteeStats(k.code),
    ),
    designationCount: argsLoader(
      async (codes, { level }: { code: string; level: string | null }) => new Map((await repo.designationCounts(codes, level)).map((r) => [r.code, r.n])),
      () => 0,
    ),
    patrolReportsByCommunity: argsLoader(
      async (ids, { range, status }: { code: string; range: TimeRange; status: 'OPEN' | 'RECTIFIED' | null }) =>
        group(await repo.patrolReportsByCommunity(ids, rangeStart(range, now), status), (r) => r.communityId),
      () => [],
    ),
    patrolStats: argsLoader<{ code: string; scope: 'COMMUNITY' | 'COMPANY'; range: TimeRange }, PatrolStatsRow>(
      async (codes, { scope, range }) => {
        const byScope = group(await repo.patrolStats(scope, codes, rangeStart(range, now), now), (r) => r.scope);
        return new Map(codes.map((c) => [c, toPatrolStats(byScope.get(c)?.[0], range)]));
      },
      (k) => toPatrolStats(undefined, k.range),
    ),
    /** Tickets of each 小区 under one filter; `first` is applied per 小区. */
    ticketsByCommunity: argsLoader(
      async (ids, { filter, first }: { code: string; filter: TicketFilterInput; first: number }) => {
        const byId = group(await repo.ticketsByCommunities(ids, filter, now), (t) => t.communityId);
        for (const [id, list] of byId) byId.set(id, list.slice(0, first));
        return byId;
      },
      () => [],
    ),
    /** Ticket figures per area, from the rollups (stats/): one batch of codes costs a fixed number of commands. */
    ticketStats: argsLoader<{ code: string; scope: StatsScope; range: TimeRange; groupBy: GroupBy | null }, TicketStatsRow>(
      async (codes, { scope, range, groupBy }) => {
        const from = rangeStart(range, now);
        const { rows, households } = await stats.ticketStats(scope, codes, range, groupBy, now);
        return new Map(codes.map((c) => [c, toTicketStats(rows.get(c) ?? [], range, from, now, groupBy != null, households.get(c)?.households ?? null)]));
      },
      (k) => toTicketStats([], k.range, rangeStart(k.range, now), now, k.groupBy != null),
    ),
    /** Monthly ticket series per area, from the month rollups. */
    ticketTrend: argsLoader<{ code: string; scope: 'CITY' | 'DISTRICT' | 'COMMUNITY'; months: number }, TicketMonthRow[]>(
      async (codes, { scope, months }) => stats.ticketTrend(scope, codes, months, now),
      () => [],
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

function group<V>(rows: readonly V[], keyOf: (v: V) => string): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}
