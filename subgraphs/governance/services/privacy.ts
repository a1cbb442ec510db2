/**
 * Statistical disclosure control for governance's figures about people (PIPL, DOMAIN.md §3.3), the
 * counterpart of the elderly subgraph's services/privacy.ts:
 *
 *  - averages of committees' party-member ratios over 1-4 committees are suppressed (null) for
 *    callers without individual-level access (`ctx.individualAccess`, set per request by lib/auth):
 *    with the published seats (`Committee.roles`) they would tell members' 政治面貌;
 *  - in a 美好家园 breakdown, the committee's party-member ratio (and the committee dimension's
 *    score, which would reveal it) is null for callers who may not read `Committee.partyMemberRatio`
 *    (scope `governance:sensitive`, not area-limited). The weighted total keeps the real value.
 *
 * This is the one place the rules live; resolvers call it with the request context.
 */
import { hasScopes, type AuthContext } from '../../../lib/auth/context';
import type { CommitteeStatsRaw } from './repository';
import type { DimensionScoreRow } from './rubric';

export const SUPPRESSION_THRESHOLD = 5;

export interface Access {
  individualAccess: boolean;
  auth: AuthContext;
}

/** The committee figures a caller may see: the ratio average needs 5 committees without individual access. */
export function exposeCommitteeStats(raw: CommitteeStatsRaw, access: Pick<Access, 'individualAccess'>): CommitteeStatsRaw {
  const n = raw.ratioCommittees ?? 0;
  const hidden = !access.individualAccess && n > 0 && n < SUPPRESSION_THRESHOLD;
  return { ...raw, avgPartyMemberRatio: hidden ? null : raw.avgPartyMemberRatio };
}

/** Whether the caller may read committees' party-member ratios everywhere (as `Committee.partyMemberRatio`). */
export function mayReadPartyMembership(access: Pick<Access, 'auth'>): boolean {
  const auth = access.auth;
  return !!auth?.authenticated && auth.limitedBy === null && hasScopes(auth, [['governance:sensitive']]);
}

/** Indicators a caller without `governance:sensitive` may not see, with the dimension they sit in. */
const SENSITIVE_INDICATORS: Readonly<Record<string, string>> = { partyMemberRatio: 'COMMITTEE_GOVERNANCE' };

/**
 * A breakdown as the caller may see it: a sensitive indicator's value and score become null, and so
 * does its dimension's score when the indicator had evidence (the mean of the visible indicators
 * and the dimension score would give the hidden score away).
 */
export function redactBreakdown(breakdown: readonly DimensionScoreRow[], access: Pick<Access, 'auth'>): DimensionScoreRow[] {
  if (mayReadPartyMembership(access)) return [...breakdown];
  return breakdown.map((d) => {
    let hadEvidence = false;
    const indicators = d.indicators.map((i) => {
      if (SENSITIVE_INDICATORS[i.key] !== d.dimension) return i;
      if (i.value != null || i.score != null) hadEvidence = true;
      return { ...i, value: null, score: null };
    });
    return { ...d, score: hadEvidence ? null : d.score, indicators };
  });
}
