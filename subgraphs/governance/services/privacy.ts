/**
 * Statistical disclosure control for governance's figures about people (PIPL; docs/domain.md,
 * "Rules behind the workflows"), the counterpart of the elderly subgraph's services/privacy.ts:
 *
 *  - averages of committees' party-member ratios are for callers who may read party membership
 *    only: with the published seats (`Committee.roles`) and averages of nested areas they would
 *    tell members' 政治面貌;
 *  - a 美好家园 evaluation shown to a caller who may not read `Committee.partyMemberRatio` (scope
 *    `governance:sensitive`, not area-limited) is re-scored as if the ratio were unknown: the
 *    indicator is null and the committee dimension, the total and the coverage are computed
 *    without it (a total computed with it, next to the other dimensions, would give it away).
 *
 * No governance figure is suppressed cell by cell below a threshold (unlike the elderly subgraph,
 * whose small counts of people need complementary suppression): the figure about people is withheld
 * whole, at every level, from every caller without the scope, so there is no published parent or
 * sibling to difference it from. The counts governance publishes (committees, meetings, tickets)
 * are counts of organisations and records, shown exactly to everyone.
 *
 * This is the one place the rules live; resolvers call it with the request context.
 */
import { ANONYMOUS, hasScopes, type AuthContext } from '../../../lib/auth/context';
import type { CommitteeStatsRaw } from './repository';
import { scoreBreakdown, type DimensionScoreRow } from './rubric';

export const SUPPRESSION_THRESHOLD = 5;

export interface Access {
  individualAccess: boolean;
  auth: AuthContext;
}

/**
 * The committee figures a caller may see. The party-member ratio average is for callers who may read
 * party membership: a city's average next to its districts' (6 × city − 5 × district) gives one
 * committee's ratio away whatever the threshold, so the average is not published to anyone else.
 */
export function exposeCommitteeStats(raw: CommitteeStatsRaw, access: Pick<Access, 'auth'>): CommitteeStatsRaw {
  return mayReadPartyMembership(access) ? raw : { ...raw, avgPartyMemberRatio: null };
}

/** Whether the caller may read committees' party-member ratios everywhere (as `Committee.partyMemberRatio`). */
export function mayReadPartyMembership(access: Pick<Access, 'auth'>): boolean {
  const auth = access.auth;
  return !!auth?.authenticated && auth.limitedBy === null && hasScopes(auth, [['governance:sensitive']]);
}

/** Indicators a caller without `governance:sensitive` may not see, with the dimension they sit in. */
const SENSITIVE_INDICATORS: Readonly<Record<string, string>> = { partyMemberRatio: 'COMMITTEE_GOVERNANCE' };

export interface ScoredEvaluation {
  score: number | null;
  coverage: number;
  breakdown: readonly DimensionScoreRow[];
}

/**
 * An evaluation as the caller may see it: for a caller who may not read party membership, the
 * sensitive indicators lose their value and score and everything built on them (dimension score,
 * total, coverage) is computed again without them, by the rubric's own scoring rule.
 */
export function redactEvaluation<T extends ScoredEvaluation>(row: T, access: Pick<Access, 'auth'>): T {
  if (mayReadPartyMembership(access)) return row;
  const rescored = scoreBreakdown(
    row.breakdown.map((d) => ({
      ...d,
      indicators: d.indicators.map((i) => (SENSITIVE_INDICATORS[i.key] === d.dimension ? { ...i, value: null, score: null } : i)),
    })),
  );
  return { ...row, ...rescored };
}

/** What a stored evaluation keeps for callers who may not read party membership (and ranks them by). */
export function publicScoreOf(row: ScoredEvaluation): { publicScore: number | null; publicCoverage: number } {
  const shown = redactEvaluation(row, { auth: ANONYMOUS });
  return { publicScore: shown.score, publicCoverage: shown.coverage };
}
