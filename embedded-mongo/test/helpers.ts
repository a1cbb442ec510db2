/**
 * Test target: the embedded engine, or a real MongoDB when MONGODB_URI is set (then the
 * engine-specific tests are skipped, and say why).
 */
import { startEmbeddedMongo, EmbeddedMongo } from '../src/index';

export const REAL_URI = process.env.MONGODB_URI;
export const onEngine = REAL_URI ? test.skip : test;

export interface Target {
  uri: string;
  engine: EmbeddedMongo | null;
  stop(): Promise<void>;
}

export async function startTarget(opts: { cursorTimeoutMs?: number } = {}): Promise<Target> {
  if (REAL_URI) {
    // eslint-disable-next-line no-console
    console.log(`MONGODB_URI is set: running against ${REAL_URI.replace(/\/\/[^@]*@/, '//***@')}; engine-specific tests are skipped (they inspect engine internals)`);
    return { uri: REAL_URI, engine: null, stop: async () => undefined };
  }
  const engine = await startEmbeddedMongo({ port: 0, ...opts });
  return { uri: engine.uri, engine, stop: () => engine.stop() };
}

/** A fresh database name per suite run, so runs against a real server do not collide. */
export function dbName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
