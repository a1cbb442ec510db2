/**
 * The engine's counters as the host process reads them: the worker copies `stats` (storage.ts) into
 * a shared Float64Array in this order after every command (server.ts), index.ts reads it.
 */
export const COUNTER_NAMES = ['docsExamined', 'indexLookups', 'collScans', 'journalSyncs', 'journalSyncSeconds', 'journalRecords'] as const;

export type EngineCounters = Record<(typeof COUNTER_NAMES)[number], number>;
