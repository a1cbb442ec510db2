import type { Connection } from 'mongoose';

export interface SyntheticCommunity {
  id: string;
  cityCode: string;
  districtCode: string;
  isOld: boolean;
  householdCount: number;
  residentCount: number;
  builtYear: number;
  managementMode: string;
}

export async function seedSynthetic(_conn: Connection, _communities: SyntheticCommunity[], _seed: number): Promise<number> {
  return 0;
}
