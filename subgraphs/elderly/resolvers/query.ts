import { badInput } from '../../../lib/errors';
import type { QueryResolvers } from '../__generated__/resolvers-types';

const AREA_CODE = /^\d{6}$/;

export function checkAreaCode(code: string, field: string): string {
  if (!AREA_CODE.test(code)) throw badInput(field, `expected a 6-digit GB/T 2260 code, got "${code}"`);
  return code;
}

export const Query: QueryResolvers = {
  mealPrograms: (_p, { cityCode }, { loaders }) => loaders.mealProgramsByCity.load(checkAreaCode(cityCode, 'cityCode')),
  careTeam: (_p, { id }, { loaders }) => loaders.careTeam.load(id),
};
