/**
 * Statistics of the renovation subgraph, kept as rollups beside the raw rows:
 * - stats/model.ts: the rollup collection and its document kinds;
 * - stats/parts.ts: what one project or facility row adds to the rollups;
 * - stats/rollups.ts: the write side (every mutation applies parts(new) − parts(old));
 * - stats/rebuild.ts: the full rebuild from raw rows (`npm run stats:rebuild`, seeds);
 * - stats/read.ts: the statistics fields' reads;
 * - stats/reference.ts: the raw-row computation the tests compare the reads with.
 */
export { rebuildStats, rebuildModels, rollupsReady } from './rebuild';
export { createRollupWriter, type RollupWriter } from './rollups';
export { createStatsReader, type StatsReader } from './read';
