/**
 * Statistics of the governance subgraph, kept as rollups beside the raw rows (./model.ts): the write
 * path (./write.ts, called by every command after its raw write), the full rebuild (./rebuild.ts, run
 * by the seeds and `npm run stats:rebuild`), the batched reads (./read.ts, over ./cover.ts) and the
 * contribution of one ticket (./tickets.ts). ./reference.ts keeps the raw-row computation for the tests.
 */
export { rebuildStats } from './rebuild';
export { createStatsWriter, type StatsWriter } from './write';
export { createStatsReader, type StatsReader, type TicketMonthRow, type TicketScopeInput } from './read';
