/**
 * The append-only audit log of personal-data reads, kept in the owning subgraph's own database
 * (collection `audit_log`). The enforcement transform notes every personal-data field it lets a
 * caller read; at the end of the request the notes are written in ONE insert (who, which records,
 * which fields, when, request id, trace id). The model refuses updates and deletes; the only way in is
 * `insertOne`, the only way out is the protected `<subgraph>AuditLog` query.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { AuthContext } from './context';
import { now } from '../clock';
import { currentTraceId } from '../tracing';

export interface AuditRead {
  type: string;
  id: string | null;
  fields: string[];
}

export interface AuditDoc {
  at: Date;
  subgraph: string;
  requestId: string | null;
  /** W3C trace id of the request (the caller's `traceparent`, else the gateway's new trace; lib/tracing.ts). */
  traceId: string | null;
  subject: string;
  role: string;
  tokenId: string | null;
  operation: string | null;
  reads: AuditRead[];
}

const AuditSchema = new Schema<AuditDoc>(
  {
    at: { type: Date, required: true },
    subgraph: { type: String, required: true },
    requestId: { type: String, default: null },
    traceId: { type: String, default: null },
    subject: { type: String, required: true },
    role: { type: String, required: true },
    tokenId: { type: String, default: null },
    operation: { type: String, default: null },
    reads: [{ _id: false, type: { type: String, required: true }, id: { type: String, default: null }, fields: [String] }],
  },
  { collection: 'audit_log', versionKey: false, strict: 'throw' },
);
AuditSchema.index({ at: -1 });
AuditSchema.index({ subject: 1, at: -1 });
AuditSchema.index({ 'reads.id': 1, at: -1 });
const refuse = function () {
  throw new Error('audit_log is append-only');
};
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete', 'findOneAndReplace'] as const) {
  AuditSchema.pre(op, refuse);
}

export type AuditModel = Model<AuditDoc>;

export function auditModel(conn: Connection): AuditModel {
  return (conn.models.AuditLog as AuditModel | undefined) ?? conn.model<AuditDoc>('AuditLog', AuditSchema);
}

/** Per-request collector of personal-data reads. */
export class AuditCollector {
  private readonly reads = new Map<string, AuditRead>();

  record(type: string, id: string | null, field: string): void {
    const key = `${type}\u0000${id ?? ''}`;
    let r = this.reads.get(key);
    if (!r) this.reads.set(key, (r = { type, id, fields: [] }));
    if (!r.fields.includes(field)) r.fields.push(field);
  }

  get size(): number {
    return this.reads.size;
  }

  /**
   * The notes taken so far; calling the result (any number of times) puts the collector back to
   * them. A mutation's transaction that is rolled back drops what it noted (an import's counts), so
   * the audit record never claims writes that did not happen.
   */
  checkpoint(): () => void {
    const copy = (from: Map<string, AuditRead>) => new Map([...from].map(([k, r]) => [k, { ...r, fields: [...r.fields] }]));
    const saved = copy(this.reads);
    return () => {
      this.reads.clear();
      for (const [k, r] of copy(saved)) this.reads.set(k, r);
    };
  }

  /** Writes the request's reads in one insert; nothing when no personal data was read. */
  async flush(model: AuditModel, meta: { subgraph: string; auth: AuthContext; requestId?: string | null; traceId?: string | null; operation?: string | null }): Promise<void> {
    if (this.reads.size === 0) return;
    const reads = [...this.reads.values()];
    this.reads.clear();
    await model.collection.insertOne({
      at: now(),
      subgraph: meta.subgraph,
      requestId: meta.requestId ?? null,
      traceId: meta.traceId ?? currentTraceId() ?? null,
      subject: meta.auth.subject,
      role: meta.auth.role,
      tokenId: meta.auth.tokenId ?? null,
      operation: meta.operation ?? null,
      reads,
    } as AuditDoc);
  }
}

export interface AuditQueryArgs {
  subject?: string | null;
  recordId?: string | null;
  since?: string | Date | null;
  first?: number | null;
}

/** The `<subgraph>AuditLog` query: newest first; filter values are plain strings, never operators. */
export async function queryAuditLog(model: AuditModel, args: AuditQueryArgs) {
  const filter: Record<string, unknown> = {};
  if (args.subject != null) filter.subject = { $eq: String(args.subject) };
  if (args.recordId != null) filter['reads.id'] = { $eq: String(args.recordId) };
  if (args.since != null) {
    const since = new Date(args.since as string);
    if (!Number.isNaN(since.getTime())) filter.at = { $gte: since };
  }
  const first = Math.min(Math.max(args.first ?? 50, 1), 500);
  const docs = await model.find(filter).sort({ at: -1 }).limit(first).lean<(AuditDoc & { _id: unknown })[]>().exec();
  return docs.map((d) => ({ ...d, id: String(d._id), at: new Date(d.at).toISOString() }));
}
