/**
 * Prometheus `/metrics` on the gateway and on every subgraph: the text parses strictly, and the
 * counters move with traffic through a real gateway, the four subgraphs and the embedded engine
 * (on disk, so its journal fsyncs count). Label sets stay bounded: operation names only for known
 * operations, never values sent by the caller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { startStack, type RunningStack } from '../../scripts/stack';
import { loadOperations } from '../../dashboard/operations';
import { BoundedLabel, createServiceMetrics, operationNamesOf } from '../../lib/metrics';
import { gql } from '../helpers/subgraph';
import { parsePrometheusText, type Exposition } from './prom-text';

let stack: RunningStack;
let dataDir: string;
const CITIES = loadOperations().find((o) => o.name === 'Cities')!.body;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'ccg-metrics-'));
  stack = await startStack({ dbPath: path.join(dataDir, 'db'), seed: 'always', logLevel: 'silent' });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const base = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '');
async function scrape(graphqlUrl: string): Promise<Exposition> {
  const res = await fetch(`${base(graphqlUrl)}/metrics`);
  expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
  return parsePrometheusText(await res.text());
}
const subgraphUrl = (name: string) => stack.subgraphs.find((s) => s.name === name)!.url;

describe('/metrics', () => {
  it('the gateway and every subgraph serve the Prometheus text format, with process metrics (heap, event-loop lag)', async () => {
    for (const url of [stack.gatewayUrl, ...stack.subgraphs.map((s) => s.url)]) {
      const m = await scrape(url);
      expect(['nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'http_requests_total'].map((n) => m.types.has(n))).toEqual([true, true, true]);
      expect(m.sum('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    }
    const g = await scrape(stack.gatewayUrl);
    expect([...g.types.keys()].filter((n) => n.startsWith('gateway_')).sort()).toEqual([
      'gateway_errors_total',
      'gateway_request_duration_seconds',
      'gateway_requests_in_flight',
      'gateway_requests_total',
      'gateway_response_cache_lookups_total',
      'gateway_response_cache_stores_total',
      'gateway_subgraph_fetch_duration_seconds',
      'gateway_subgraph_fetches_total',
    ]);
    const p = await scrape(subgraphUrl('properties'));
    expect(['subgraph_requests_total', 'subgraph_request_duration_seconds', 'subgraph_errors_total', 'subgraph_requests_in_flight', 'mongodb_command_duration_seconds'].map((n) => p.types.get(n))).toEqual([
      'counter',
      'histogram',
      'counter',
      'gauge',
      'histogram',
    ]);
  });

  it('counters move with traffic: operations by known name or "other", errors by code, subgraph fetches, response cache, database commands', async () => {
    const g0 = await scrape(stack.gatewayUrl);
    const p0 = await scrape(subgraphUrl('properties'));

    // A dashboard operation (known by its exact text) twice: the second is a response-cache hit.
    const first = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: CITIES }) });
    expect(first.status).toBe(200);
    const second = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: CITIES }) });
    expect(second.headers.get('x-gateway-cache')).toBe('hit');
    // An operation the gateway does not know, named by the caller: counted as "other".
    expect((await gql(stack.gatewayUrl, 'query SecretCallerChosenName_13900000001 { cities { code } }')).errors).toBeUndefined();
    // A query that fails validation: an error with its code.
    expect((await gql(stack.gatewayUrl, '{ noSuchField }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const g1 = await scrape(stack.gatewayUrl);
    const p1 = await scrape(subgraphUrl('properties'));
    const delta = (a: Exposition, b: Exposition, name: string, labels?: Record<string, string>) => b.sum(name, labels) - a.sum(name, labels);

    expect({
      cities: delta(g0, g1, 'gateway_requests_total', { operation: 'Cities', outcome: 'ok' }),
      citiesLatency: delta(g0, g1, 'gateway_request_duration_seconds_count', { operation: 'Cities' }),
      other: delta(g0, g1, 'gateway_requests_total', { operation: 'other', outcome: 'ok' }),
      invalid: delta(g0, g1, 'gateway_errors_total', { operation: 'invalid', code: 'GRAPHQL_VALIDATION_FAILED' }),
      cacheHits: delta(g0, g1, 'gateway_response_cache_lookups_total', { result: 'hit' }),
      cacheStores: delta(g0, g1, 'gateway_response_cache_stores_total'),
      // Stored: Cities (first time) and the unknown operation. The cache hit and the validation
      // failure never reach a subgraph: 2 fetches.
      fetches: delta(g0, g1, 'gateway_subgraph_fetches_total', { subgraph: 'properties', outcome: 'ok' }),
      fetchLatency: delta(g0, g1, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'properties' }),
      subgraphCities: delta(p0, p1, 'subgraph_requests_total', { root_field: 'cities', outcome: 'ok' }),
    }).toEqual({ cities: 2, citiesLatency: 2, other: 1, invalid: 1, cacheHits: 1, cacheStores: 2, fetches: 2, fetchLatency: 2, subgraphCities: 2 });
    // The subgraph's reads behind `cities` (whatever collections its read path uses this release).
    expect(delta(p0, p1, 'mongodb_command_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect([...p1.labelValues('mongodb_command_duration_seconds_count', 'command')]).toEqual(expect.arrayContaining(['find', 'aggregate']));
    expect(g1.sum('gateway_requests_in_flight')).toBe(0);
    expect(delta(g0, g1, 'http_requests_total', { route: '/graphql', status: '2xx' })).toBeGreaterThanOrEqual(3);

    // Bounded labels: nothing the caller chose (its operation name, a phone-like string) is a label value.
    for (const m of [g1, p1]) expect(JSON.stringify(m.samples.map((s) => s.labels))).not.toMatch(/SecretCallerChosenName|13900000001/);
  });

  it('the embedded engine’s documents examined and journal fsyncs move with reads and writes', async () => {
    const conn = stack.subgraphs.find((s) => s.name === 'governance')!.conn;
    const e0 = await scrape(stack.gatewayUrl);
    await conn.db!.collection('metrics_probe').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await conn.db!.collection('metrics_probe').insertOne({ n: 4 });
    expect(await conn.db!.collection('metrics_probe').find({ n: { $gt: 0 } }).toArray()).toHaveLength(4);
    const e1 = await scrape(stack.gatewayUrl);
    const d = (name: string) => e1.sum(name) - e0.sum(name);
    expect(d('embedded_engine_journal_fsyncs_total')).toBeGreaterThanOrEqual(2);
    expect(d('embedded_engine_journal_records_total')).toBeGreaterThanOrEqual(4);
    expect(d('embedded_engine_journal_fsync_seconds_total')).toBeGreaterThan(0);
    expect(d('embedded_engine_documents_examined_total')).toBeGreaterThanOrEqual(4);
  });
});

describe('metrics protection and bounds', () => {
  it('with METRICS_TOKEN set, /metrics answers 401 without the bearer token and the metrics with it', async () => {
    const token = 'scrape-token-0123456789';
    const metrics = createServiceMetrics('subgraph', { enabled: true, token });
    const app = express();
    app.get('/metrics', metrics.handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      const none = await fetch(url);
      const wrong = await fetch(url, { headers: { authorization: 'Bearer scrape-token-0123456780' } });
      const right = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect([none.status, wrong.status, right.status]).toEqual([401, 401, 200]);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(parsePrometheusText(await right.text()).types.get('subgraph_requests_total')).toBe('counter');
    } finally {
      server.close();
    }
  });

  it('a bounded label keeps the first values and turns the rest, and anything not an identifier, into "other"', () => {
    const l = new BoundedLabel(2);
    expect([l.of('a'), l.of('b'), l.of('c'), l.of('a'), l.of('has space'), l.of(42), l.of('x'.repeat(65))]).toEqual(['a', 'b', 'other', 'a', 'other', 'other', 'other']);
  });

  it('operation names come from manifest bodies only: an anonymous or multi-operation body gets no name', () => {
    const names = operationNamesOf([
      ['AA', 'query One { a }'],
      ['bb', '{ a }'],
      ['cc', 'query X { a } query Y { b }'],
      ['dd', 'not graphql'],
    ]);
    expect([...names]).toEqual([['aa', 'One']]);
  });
});
