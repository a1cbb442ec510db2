/**
 * Trace export: nothing is exported unless an OTLP endpoint is configured; with one, the spans of a
 * request are posted to `<endpoint>/v1/traces` (here a receiver on 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { tracingFromEnv } from '../../lib/config';

const run = promisify(execFile);
const TSX = path.join(__dirname, '../../node_modules/tsx/dist/cli.mjs');

describe('OTLP trace export', () => {
  it('is off unless an endpoint is set: no variable means no URL; the base endpoint gets /v1/traces; the traces endpoint is used as it is', () => {
    expect(tracingFromEnv({})).toEqual({ serviceName: 'city-community-graph' });
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }).otlpTracesUrl).toBe('http://127.0.0.1:4318/v1/traces');
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' }).otlpTracesUrl).toBe('http://b:9999/traces');
    expect(() => tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('with an endpoint configured, a request’s span (with the caller’s trace id) is posted there', async () => {
    const received: { path: string; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const traceId = randomBytes(16).toString('hex');
    try {
      // A service process of its own (see otlp-child.ts), configured only through its environment.
      const { stdout } = await run(process.execPath, [TSX, path.join(__dirname, 'otlp-child.ts')], {
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'otlp-test', TRACEPARENT: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        timeout: 60_000,
      });
      expect(stdout.trim()).toBe('status 200');
      const body = received.filter((r) => r.path === '/v1/traces').map((t) => t.body).join('\n');
      // OTLP/HTTP JSON carries ids as hex strings; the service name is the resource's.
      expect([body.includes(traceId), body.includes('probe GET /graphql'), body.includes('otlp-test')]).toEqual([true, true, true]);
    } finally {
      receiver.close();
    }
  }, 90_000);
});
