/**
 * Recomputes every statistics rollup of the governance subgraph from the raw rows: the register
 * figures, then every ticket's contribution (./tickets.ts) in pages of tickets by `_id`, summed into
 * whole rollup documents, with the ledger written alongside; then the committee and joint-meeting
 * area rollups (./areas.ts). Run by the seeds (after writing rows
 * behind the write path) and by `npm run stats:rebuild`.
 */
import type { Connection } from 'mongoose';
import { initModels } from '../../../lib/db';
import { progressLine } from '../../../lib/rollup';
import { registerModels, type Models } from '../models';
import { computeCommitteeDocs, computeMeetingDocs } from './areas';
import { registerDocsFor } from './register';
import { addInto, contributionOf, hashInputs, inputsOf, REGISTER_FIELDS, TICKET_FIELDS, type RegisterRow, type TicketRow } from './tickets';

const PAGE = 5000;
const INSERT_CHUNK = 5000;

async function insertChunks(coll: Models['TicketStats']['collection'], docs: readonly object[]): Promise<void> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) await coll.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false });
}

/**
 * The rollup documents of every ticket (summed in memory: they grow with areas × days, not with
 * tickets), from the raw rows. Each page's ledger entries go to `writeLedger` as the page is read,
 * so memory does not grow with the number of tickets.
 */
export async function computeTicketRollups(m: Models, writeLedger: (entries: { _id: string; h: string; in: unknown }[]) => Promise<void>, progress?: (line: string) => void) {
  const register = new Map<string, RegisterRow>();
  for (const r of (await m.Community.collection.find({}, { projection: REGISTER_FIELDS }).toArray()) as unknown as RegisterRow[]) register.set(r._id, r);
  const total = await m.Ticket.estimatedDocumentCount();
  const docs = new Map<string, Record<string, unknown>>();
  let ledgerCount = 0;
  let after: string | null = null;
  let done = 0;
  for (;;) {
    const page = (await m.Ticket.collection
      .find(after === null ? {} : { _id: { $gt: after as never } }, { projection: TICKET_FIELDS })
      .sort({ _id: 1 })
      .limit(PAGE)
      .toArray()) as unknown as TicketRow[];
    if (!page.length) break;
    const ledger: { _id: string; h: string; in: unknown }[] = [];
    for (const t of page) {
      const inputs = inputsOf(t, register.get(t.communityId) ?? null);
      addInto(docs, contributionOf(inputs));
      ledger.push({ _id: t._id, h: hashInputs(inputs)!, in: inputs });
    }
    await writeLedger(ledger);
    ledgerCount += ledger.length;
    done += page.length;
    progress?.(progressLine(done, total, 'tickets'));
    after = page[page.length - 1]._id;
    if (page.length < PAGE) break;
  }
  return { register, docs, ledgerCount };
}

/** Recomputes every rollup from the raw rows; returns the rollup documents written. */
export async function rebuildStats(conn: Connection, progress?: (line: string) => void): Promise<number> {
  const m = registerModels(conn);
  await initModels(conn);
  await m.TicketStatsLedger.collection.deleteMany({});
  const { register, docs, ledgerCount } = await computeTicketRollups(m, (entries) => insertChunks(m.TicketStatsLedger.collection, entries), progress);
  progress?.(progressLine(ledgerCount, ledgerCount, 'ticket ledger'));
  const registerDocs = [...registerDocsFor(register.values()).values()];
  await m.RegisterStats.collection.deleteMany({});
  await insertChunks(m.RegisterStats.collection, registerDocs);
  progress?.(progressLine(registerDocs.length, registerDocs.length, 'register rollups'));
  const list = [...docs.values()];
  const main = list.filter((d) => !d.g);
  const groups = list.filter((d) => d.g);
  await m.TicketStats.collection.deleteMany({});
  await insertChunks(m.TicketStats.collection, main);
  await m.TicketStatsGroups.collection.deleteMany({});
  await insertChunks(m.TicketStatsGroups.collection, groups);
  progress?.(progressLine(list.length, list.length, 'ticket rollups'));
  const committees = await computeCommitteeDocs(m);
  await m.CommitteeStats.collection.deleteMany({});
  await insertChunks(m.CommitteeStats.collection as never, committees);
  progress?.(progressLine(committees.length, committees.length, 'committee rollups'));
  const meetings = await computeMeetingDocs(m);
  await m.MeetingStats.collection.deleteMany({});
  await insertChunks(m.MeetingStats.collection as never, meetings);
  progress?.(progressLine(meetings.length, meetings.length, 'meeting rollups'));
  return registerDocs.length + ledgerCount + list.length + committees.length + meetings.length;
}
