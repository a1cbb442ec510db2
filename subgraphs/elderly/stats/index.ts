/**
 * Statistics of the elderly subgraph, kept as rollups beside the raw rows (./model.ts): the write
 * path (./write.ts, called by every mutation after its raw write), the full rebuild (./rebuild.ts,
 * run by the seeds and `npm run stats:rebuild`), the batched reads (./read.ts) and the figures as of
 * an instant (./figures.ts). ./reference.ts keeps the raw-row computation for the tests.
 */
export { rebuildStats, type AreaDoc } from './rebuild';
export { refreshResident } from './write';
export { createStatsReader, type StatsReader, type StatsLevel, type CoverageRow } from './read';
export { windowsAt, rawStatsOf, trendOf, overdueOf, visitedOf, holidayOf, type Windows, type RawVisitMonth } from './figures';
