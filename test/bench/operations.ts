/**
 * The benchmark's operations: W1 is one dashboard operation sent by every client (by default
 * CommunityProfile, no. 3; CityOverview, no. 1, with --w1); W2 is a mix of the representative
 * operations (numbered as in docs/domain.md, "Bureaus and entities") with varied variables. Each
 * operation is checked once against the running stack before the run; any that fails (schema still
 * moving) is left out of the mix and listed in the report.
 */

export interface OperationTemplate {
  name: string;
  /** Number of the operation in docs/domain.md, "Bureaus and entities" (representative operations). */
  domain: number;
  query: string;
  /** Builds variables from the pools (random but seeded). */
  variables: (p: VariablePools, rnd: () => number) => Record<string, unknown>;
}

export interface VariablePools {
  cities: string[];
  districts: string[];
  communities: string[];
  companies: string[];
  period: string;
  year: number;
}

const pick = <T>(xs: T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)];

export const W1_OPERATION: OperationTemplate = {
  name: 'CityOverview',
  domain: 1,
  query: `query CityOverview($city: ID!, $period: String!, $year: Int!) {
  city(code: $city) {
    name communityCount oldCommunityCount propertyCoverageRate
    feeCollection(period: $period) { amountRate householdRate }
    satisfactionAvg(period: $period)
    ticketStats(range: LAST_30D) { opened resolved backlog medianHoursToResolve satisfiedRate }
    elderlyStats { registered livingAlone monthlyVisitRate overdueVisits }
    renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } }
  }
}`,
  variables: (p) => ({ city: p.cities[0], period: p.period, year: p.year }),
};

export const W2_OPERATIONS: OperationTemplate[] = [
  { ...W1_OPERATION, variables: (p, rnd) => ({ city: pick(p.cities, rnd), period: p.period, year: p.year }) },
  {
    name: 'DistrictFeeRanking',
    domain: 2,
    query: `query DistrictFeeRanking($city: ID!, $period: String!) {
  districtFeeRanking(cityCode: $city, period: $period) { rank district { code name } feeCollection { amountRate householdRate clearanceRate } }
}`,
    variables: (p, rnd) => ({ city: pick(p.cities, rnd), period: p.period }),
  },
  {
    name: 'CommunityProfile',
    domain: 3,
    query: `query CommunityProfile($id: ID!) {
  community(id: $id) {
    name address builtYear builtDecade isOldCommunity housingType buildingCount residentCount
    servicePromise has24hServiceHotline commendationBannerCount
    currentContract { company { name nature hasPartyOrganization } selectionMethod startDate }
    feeHistory(last: 12) { period amountRate reportedRate reportedRateBasis }
    latestSatisfaction { percent isLowerBound }
    committee { id } partyAlliance { id }
    jointMeetings(range: LAST_90D) { id } patrolTeams { id } designations { id }
    elderlyStats { registered livingAlone monthlyVisitRate } mealPrograms { type name operator { name } }
    renovationProjects { planYear status budget { amount } fundingSources { type } } facilities(condition: [BROKEN, MISSING]) { type quantity }
  }
}`,
    variables: (p, rnd) => ({ id: pick(p.communities, rnd) }),
  },
  {
    name: 'DistrictCommunities',
    domain: 18,
    query: `query DistrictCommunities($district: ID!) {
  communities(filter: { districtCode: $district }, first: 20) {
    totalCount
    edges { node { id name builtYear householdCount managementMode
      elderlyStats { livingAlone monthlyVisitRate } renovationSummary { latestProjectYear projects }
      ticketStats(range: LAST_30D) { backlog } facilityGaps { type condition } } }
  }
}`,
    variables: (p, rnd) => ({ district: pick(p.districts, rnd) }),
  },
  {
    name: 'TicketBacklog',
    domain: 9,
    query: `query TicketBacklog($district: ID!) {
  tickets(filter: { districtCode: $district, status: [RECEIVED, DISPATCHED, IN_PROGRESS, SUPERVISING] }, first: 30) {
    edges { node { externalNo serviceCode dueAt community { name currentContract { company { name } } } } }
  }
}`,
    variables: (p, rnd) => ({ district: pick(p.districts, rnd) }),
  },
  {
    name: 'RenovationProgress',
    domain: 7,
    query: `query RenovationProgress($city: ID!, $year: Int!, $district: ID) {
  renovationProjects(cityCode: $city, year: $year, districtCode: $district, limit: 40) {
    name status late milestones { type plannedAt actualAt } communities { name district { code name } }
  }
}`,
    variables: (p, rnd) => ({ city: p.cities[0], year: p.year, district: pick(p.districts.filter((d) => d.startsWith(p.cities[0].slice(0, 4))), rnd) }),
  },
  {
    name: 'MealProgramReach',
    domain: 19,
    query: `query MealProgramReach($city: ID!) {
  mealPrograms(cityCode: $city) { type name operator { name nature } communitiesServed { name elderlyStats { livingAlone } } beneficiaryCount }
}`,
    variables: (p, rnd) => ({ city: pick(p.cities, rnd) }),
  },
  {
    name: 'PropertyCompanyScorecard',
    domain: 17,
    query: `query PropertyCompanyScorecard($uscc: ID!) {
  propertyCompany(uscc: $uscc) {
    name communities { name feeCollection { amountRate } latestSatisfaction { percent } ticketStats(range: LAST_12M) { dissatisfiedRate } }
  }
}`,
    variables: (p, rnd) => ({ uscc: pick(p.companies, rnd) }),
  },
  {
    name: 'TimeToResolveByCategory',
    domain: 10,
    query: `query TimeToResolveByCategory($city: ID!) {
  ticketStats(scope: { cityCode: $city }, range: LAST_90D, groupBy: SERVICE_CODE) { opened resolved groups { key p50Hours p90Hours reopenRate dissatisfiedRate } }
}`,
    variables: (p, rnd) => ({ city: pick(p.cities, rnd) }),
  },
];

/** Query that fills the variable pools from the running stack. */
export const POOL_QUERY = `query BenchPools($city: ID!) {
  cities { code districts { code } }
  communities(filter: { cityCode: $city }, first: 100) { edges { node { id feeHistory(last: 1) { period } currentContract { company { uscc } } } } }
}`;

/** Deterministic PRNG (mulberry32) so runs pick the same variables. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
