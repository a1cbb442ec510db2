/**
 * The fault-behaviour variables (README "Services, ports and environment" and "Operations"): their
 * defaults, refusal of invalid values, the entry points that honour them, and what they do to a
 * server and a database connection.
 */
import { connectDatabase, isDatabaseUnavailable } from '../../lib/db';
import { createHttpServer } from '../../lib/http';
import { ConfigError, databaseTimeoutsFromEnv, httpTimeoutsFromEnv, loadConfig, shutdownGraceFromEnv, unhonouredVariables } from '../../lib/config';

describe('fault-behaviour configuration', () => {
  it('defaults: database 5 s to select a server and to connect, 10 s for headers, 30 s for a request, 10 s of shutdown grace', () => {
    expect(databaseTimeoutsFromEnv({})).toEqual({ serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
    expect(httpTimeoutsFromEnv({})).toEqual({ headersTimeoutMs: 10000, requestTimeoutMs: 30000 });
    expect(shutdownGraceFromEnv({})).toBe(10000);
  });

  it('values are read from the environment and invalid ones are refused with the variable’s name', () => {
    expect(databaseTimeoutsFromEnv({ MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1500', MONGODB_CONNECT_TIMEOUT_MS: '2000' })).toEqual({ serverSelectionTimeoutMS: 1500, connectTimeoutMS: 2000 });
    expect(shutdownGraceFromEnv({ SHUTDOWN_GRACE_MS: '0' })).toBe(0);
    expect(() => httpTimeoutsFromEnv({ HTTP_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5', MONGODB_CONNECT_TIMEOUT_MS: '-1' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS[\s\S]*MONGODB_CONNECT_TIMEOUT_MS|MONGODB_CONNECT_TIMEOUT_MS[\s\S]*HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('the gateway refuses the database timeouts, the seed refuses the server settings; start and start:subgraph take them all', () => {
    const all = { MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000', MONGODB_CONNECT_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', SHUTDOWN_GRACE_MS: '3000' };
    expect(unhonouredVariables(all, 'start')).toEqual([]);
    expect(unhonouredVariables(all, 'start:subgraph')).toEqual([]);
    expect(unhonouredVariables(all, 'start:gateway').map((p) => p.split(':')[0])).toEqual(['MONGODB_SERVER_SELECTION_TIMEOUT_MS', 'MONGODB_CONNECT_TIMEOUT_MS']);
    expect(unhonouredVariables(all, 'seed').map((p) => p.split(':')[0])).toEqual(['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'SHUTDOWN_GRACE_MS']);
  });

  it('an HTTP server gets the configured client timeouts (headers never longer than the whole request)', () => {
    const s = createHttpServer(() => undefined, { headersTimeoutMs: 4000, requestTimeoutMs: 9000 });
    expect([s.headersTimeout, s.requestTimeout]).toEqual([4000, 9000]);
    const clamped = createHttpServer(() => undefined, { headersTimeoutMs: 9000, requestTimeoutMs: 4000 });
    expect([clamped.headersTimeout, clamped.requestTimeout]).toEqual([4000, 4000]);
  });

  it('a database connection gets the configured timeouts, and refused connections count as "database unavailable", bad commands do not', async () => {
    // Nothing listens on port 9 of 127.0.0.1 (discard): the first connection is refused.
    const failure = await connectDatabase({ uri: 'mongodb://127.0.0.1:9', dbName: 'x', timeouts: { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((failure as Error).name).toBe('MongooseServerSelectionError');
    expect(isDatabaseUnavailable(failure)).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('E11000 duplicate key'), { name: 'MongoServerError', code: 11000 }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('x', { cause: Object.assign(new Error('refused'), { name: 'MongoNetworkError' }) }))).toBe(true);
  });
});
