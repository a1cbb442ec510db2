/**
 * Statistics of the properties subgraph, kept as rollups beside the raw rows (./model.ts): the write
 * path (./write.ts, called by every mutation after its raw write and by the demo seed), the full
 * rebuild (./rebuild.ts, run by the synthetic seed and `npm run stats:rebuild`), the batched reads
 * (./read.ts) and the arithmetic both share (./figures.ts). ./reference.ts keeps the raw-row
 * computation for the tests.
 */
export { rebuildStats, computeRollups } from './rebuild';
export { createRollupWriter, type RollupWriter } from './write';
export { createStatsReader, type StatsReader, type PropertyMonthRow } from './read';
export { registerRollupModel, META_ID, type RollupDoc, type StatsLevel } from './model';
