/** Example variables of the dashboard's operations (the explorer's tabs; demo data ids). */
export const EXAMPLE_VARIABLES: Record<string, Record<string, unknown>> = {
  Cities: {},
  CityOverview: { code: '320100' },
  CityAlliances: { code: '320100' },
  DistrictRanking: { code: '320100' },
  DistrictView: { code: '320104' },
  DistrictCommunities: { code: '320104', first: 20 },
  CommunityProfile: { id: 'cm_320116_s00034' },
  CommunityTickets: { id: 'cm_320116_s00034' },
  ElderlyDue: { id: 'cm_320116_s00034' },
  CommunitySearch: { first: 20 },
};
