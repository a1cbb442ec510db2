/** Argument checks shared by the query resolvers: each failure names the argument. */
import { badInput } from '../../../lib/errors';

const CITY = /^\d{4}00$/;
const DISTRICT = /^\d{6}$/;

export function checkCity(code: string | null | undefined, field = 'cityCode'): string | null {
  if (code == null) return null;
  if (!CITY.test(code)) throw badInput(field, `expected a 6-digit GB/T 2260 city code ending in 00, got "${code}"`);
  return code;
}

export function checkDistrict(code: string | null | undefined, cityCode: string | null, field = 'districtCode'): string | null {
  if (code == null) return null;
  if (!DISTRICT.test(code) || code.endsWith('00')) throw badInput(field, `expected a 6-digit GB/T 2260 district code, got "${code}"`);
  if (cityCode && code.slice(0, 4) !== cityCode.slice(0, 4)) throw badInput(field, `district ${code} is not in city ${cityCode}`);
  return code;
}

export function checkYear(year: number | null | undefined, field = 'year'): number | null {
  if (year == null) return null;
  if (year < 1990 || year > 2100) throw badInput(field, 'must be a year between 1990 and 2100');
  return year;
}

export function checkSize(n: number | null | undefined, fallback: number, max: number, field: string): number {
  const v = n ?? fallback;
  if (v < 0 || v > max) throw badInput(field, `must be between 0 and ${max}`);
  return v;
}

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

export function decodeCursor(after: string | null | undefined): string | null {
  if (after == null) return null;
  const id = Buffer.from(after, 'base64url').toString('utf8');
  if (!id || encodeCursor(id) !== after) throw badInput('after', 'not a cursor returned by this list');
  return id;
}

export function connection<T extends { _id: string }>(page: { docs: T[]; hasNextPage: boolean; totalCount: number }) {
  return {
    edges: page.docs.map((node) => ({ cursor: encodeCursor(node._id), node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.docs.length ? encodeCursor(page.docs[page.docs.length - 1]._id) : null },
    totalCount: page.totalCount,
  };
}
