import { badInput } from '../../../lib/errors';

/** Longest monthly series a trend field returns. */
export const MAX_TREND_MONTHS = 60;

/** The `months` argument of a trend field: an integer 1-60 (default 12), else BAD_USER_INPUT. */
export function checkTrendMonths(months: number | null | undefined): number {
  const n = months ?? 12;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TREND_MONTHS) throw badInput('months', `must be an integer between 1 and ${MAX_TREND_MONTHS}`);
  return n;
}
