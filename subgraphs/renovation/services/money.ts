/**
 * Money in integer fen (分). The GraphQL `Money` type is resolved from a `MoneyValue`; unknown
 * amounts stay null and are never turned into zero.
 */
export interface MoneyValue {
  fen: number;
  approx: boolean;
}

export function money(fen: number | null | undefined, approx?: boolean | null): MoneyValue | null {
  if (fen == null) return null;
  return { fen, approx: approx ?? false };
}

/** A sum that is always known (e.g. aggregates, where unknown parts are left out). */
export const moneyOrZero = (fen: number | null | undefined, approx?: boolean | null): MoneyValue => ({ fen: fen ?? 0, approx: approx ?? false });

export const yuan = (m: MoneyValue) => m.fen / 100;
