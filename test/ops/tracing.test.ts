/**
 * Traces across the federation: a W3C `traceparent` sent to the gateway reaches the subgraphs and
 * the database, and the same trace id is in the gateway's and the subgraph's log lines and in the
 * subgraph's audit record. Real gateway, four real subgraphs, the embedded engine; spans are read
 * from an in-memory exporter (nothing leaves the process).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src';
import { createGatewayServer } from '../../gateway/server';
import { connectDatabase } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { dbNameFor } from '../../lib/subgraph-module';
import { addSpanExporter } from '../../lib/tracing';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';
import { SUBGRAPHS } from '../../scripts/subgraphs';
import { adminHeader, gql } from '../helpers/subgraph';

interface LogLine {
  service: string;
  msg: string;
  trace_id?: string;
  span_id?: string;
  requestId?: string;
  [k: string]: unknown;
}

const lines: LogLine[] = [];
const capture = { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) };
const spans = new InMemorySpanExporter();
let engine: EmbeddedMongo;
const conns = new Map<string, Connection>();
const closers: (() => Promise<void>)[] = [];
let gatewayUrl: string;
let elderId: string;

beforeAll(async () => {
  addSpanExporter(spans);
  engine = await startEmbeddedMongo({ port: 0 });
  const urls: Record<string, string> = {};
  for (const mod of SUBGRAPHS) {
    const conn = await connectDatabase({ uri: engine.uri, dbName: `${dbNameFor(mod.name)}_tracing_${process.pid}`, monitorCommands: true });
    conns.set(mod.name, conn);
    const server = await mod.create(conn, createLogger(mod.name, 'debug', capture));
    await mod.seed(conn);
    const running = await server.listen(0);
    urls[mod.name] = running.url;
    closers.push(async () => {
      await running.close();
      await conn.close();
    });
  }
  const gateway = createGatewayServer({ supergraphPath: DEFAULT_SUPERGRAPH, subgraphUrls: urls, logger: createLogger('gateway', 'debug', capture), watchSupergraph: false });
  const gw = await gateway.listen(0);
  gatewayUrl = gw.url;
  closers.unshift(() => gw.close());
  // One resident with a phone number: reading it leaves an audit record in the elderly database.
  const created = await gql(
    gatewayUrl,
    `mutation { registerElderlyResident(input: { clientKey: "trace-test-1", communityId: "cm_320113_0001", ageBand: AGE_80_89, livingArrangement: LIVING_ALONE, consentRecordedAt: "2026-01-05T02:00:00Z", personal: { phone: "13900000077" } }) { id } }`,
  );
  expect(created.errors).toBeUndefined();
  elderId = created.data!.registerElderlyResident.id;
}, 120_000);

afterAll(async () => {
  for (const c of closers) await c();
  await engine?.stop();
});

const traceparentOf = (traceId: string, spanId = randomBytes(8).toString('hex')) => `00-${traceId}-${spanId}-01`;
const READ_PHONE = (id: string) => `query ReadPhone { elderlyResident(id: "${id}") { id phone } }`;

async function readPhone(headers: Record<string, string>) {
  const res = await gql(gatewayUrl, READ_PHONE(elderId), undefined, { ...(await adminHeader()), ...headers });
  expect(res.errors).toBeUndefined();
  expect(res.data!.elderlyResident.phone).toBe('13900000077');
}

const requestLines = (requestId: string, service: string) => lines.filter((l) => l.service === service && l.msg === 'graphql request' && l.requestId === requestId);

describe('W3C trace context through gateway, subgraph and database', () => {
  it('a request with a traceparent shows that trace id in the gateway’s and the subgraph’s log lines and in the audit record', async () => {
    const traceId = randomBytes(16).toString('hex');
    const requestId = randomUUID();
    await readPhone({ traceparent: traceparentOf(traceId), 'x-request-id': requestId });

    const gatewayLines = requestLines(requestId, 'gateway');
    const elderlyLines = requestLines(requestId, 'elderly');
    expect(gatewayLines.map((l) => l.trace_id)).toEqual([traceId]);
    expect(elderlyLines.map((l) => l.trace_id)).toEqual([traceId]);
    // Each service logs under its own span of the same trace.
    expect(gatewayLines[0].span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(elderlyLines[0].span_id).not.toBe(gatewayLines[0].span_id);

    const audit = await conns.get('elderly')!.collection('audit_log').find({ requestId }).toArray();
    expect(audit.map((a) => [a.traceId, a.reads.map((r: { fields: string[] }) => r.fields).flat()])).toEqual([[traceId, ['id', 'phone']]]);
  });

  it('the spans of that request form one trace: gateway → subgraph fetch → subgraph → database command', async () => {
    spans.reset();
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    await readPhone({ traceparent: traceparentOf(traceId, callerSpan), 'x-request-id': randomUUID() });

    const own = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(own.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: (typeof own)[number]) => s.parentSpanContext?.spanId;
    const gatewaySpan = own.find((s) => s.name === 'gateway POST /graphql');
    const fetch = own.find((s) => s.name === 'gateway fetch elderly');
    const subgraph = own.find((s) => s.name === 'elderly POST /graphql');
    const db = own.find((s) => s.name === 'mongodb aggregate elderly_residents');
    expect([gatewaySpan, fetch, subgraph, db].map((s) => s?.name)).toEqual(['gateway POST /graphql', 'gateway fetch elderly', 'elderly POST /graphql', 'mongodb aggregate elderly_residents']);
    // Walking up from the database command reaches the caller's span through each service
    // (@apollo/gateway's own spans, gateway.request/execute/fetch, sit in between).
    const chain: string[] = [];
    for (let s: (typeof own)[number] | undefined = db; s; s = byId.get(parentOf(s)!)) chain.push(s.name);
    expect(chain.filter((n) => !n.startsWith('gateway.'))).toEqual(['mongodb aggregate elderly_residents', 'elderly POST /graphql', 'gateway fetch elderly', 'gateway POST /graphql']);
    expect(parentOf(gatewaySpan!)).toBe(callerSpan);
    expect(parentOf(db!)).toBe(subgraph!.spanContext().spanId);
    expect(db!.attributes).toMatchObject({ 'db.system': 'mongodb', 'db.operation.name': 'aggregate', 'db.collection.name': 'elderly_residents' });
    // Only the command and collection are recorded: no filter values (the resident's id) in any attribute.
    expect(JSON.stringify(own.map((s) => s.attributes))).not.toContain(elderId);
  });

  it('without a traceparent the gateway starts a trace and the subgraph continues it', async () => {
    const requestId = randomUUID();
    await readPhone({ 'x-request-id': requestId });
    const [g] = requestLines(requestId, 'gateway');
    const [e] = requestLines(requestId, 'elderly');
    expect(g.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(g.trace_id).not.toBe('0'.repeat(32));
    expect(e.trace_id).toBe(g.trace_id);
    const audit = await conns.get('elderly')!.collection('audit_log').findOne({ requestId });
    expect(audit?.traceId).toBe(g.trace_id);
  });

  it('every line the gateway and the subgraph log while serving a request carries that request’s trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const from = lines.length;
    await readPhone({ traceparent: traceparentOf(traceId), 'x-request-id': randomUUID() });
    const during = lines.slice(from).filter((l) => l.service === 'gateway' || l.service === 'elderly');
    expect(new Set(during.map((l) => l.service))).toEqual(new Set(['gateway', 'elderly']));
    expect(during.filter((l) => l.trace_id !== traceId).map((l) => `${l.service}: ${l.msg}`)).toEqual([]);
  });

  it('the audit log read through the gateway shows each record’s request id, not its trace id (trace ids are for operators’ logs and traces)', async () => {
    const requestId = randomUUID();
    await readPhone({ traceparent: traceparentOf(randomBytes(16).toString('hex')), 'x-request-id': requestId });
    const log = await gql(gatewayUrl, `{ elderlyAuditLog(recordId: "${elderId}", first: 50) { requestId reads { fields } } }`, undefined, await adminHeader());
    expect(log.errors).toBeUndefined();
    expect(log.data!.elderlyAuditLog.map((r: { requestId: string }) => r.requestId)).toContain(requestId);
    const asked = await gql(gatewayUrl, '{ elderlyAuditLog(first: 1) { requestId traceId } }', undefined, await adminHeader());
    expect(asked.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(asked.data).toBeUndefined();
  });

  it('every audit record written in every subgraph during these requests carries a trace id', async () => {
    const records = (await Promise.all([...conns.values()].map((c) => c.collection('audit_log').find({}).toArray()))).flat();
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((r) => !/^[0-9a-f]{32}$/.test(String(r.traceId))).map((r) => r.subgraph)).toEqual([]);
  });

  it('a malformed traceparent is ignored: the request is answered under a new trace', async () => {
    const requestId = randomUUID();
    await readPhone({ traceparent: '00-not-a-trace-01', 'x-request-id': requestId });
    const [g] = requestLines(requestId, 'gateway');
    const [e] = requestLines(requestId, 'elderly');
    expect(g.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(e.trace_id).toBe(g.trace_id);
  });
});
