/**
 * Configuration, parsed once with zod. This is the only module that reads `process.env`
 * (callers may pass another env object, e.g. in tests). Every invalid variable is reported.
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const mongoUri = z
  .string()
  .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI');

const BaseEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  DATA_DIR: z.string().min(1).default('.data'),
  MONGODB_URI: mongoUri.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUPERGRAPH_FILE: z.string().min(1).optional(),
});

export type BaseConfig = z.infer<typeof BaseEnv>;

export interface Config extends BaseConfig {
  /** Absolute data directory. */
  dataDir: string;
  /** Per-subgraph MongoDB URI (`MONGODB_URI_<NAME>`), falling back to `MONGODB_URI`. */
  mongoUriFor(subgraph: string): string | undefined;
  /** Port of a subgraph (`<NAME>_PORT`), falling back to the given default. */
  subgraphPort(subgraph: string, fallback: number): number;
  /** Routing URL override for the gateway (`<NAME>_URL`), if set. */
  subgraphUrl(subgraph: string): string | undefined;
  /** True when no MongoDB URI is configured at all: the embedded engine is used. */
  usesEmbeddedEngine: boolean;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const envKey = (subgraph: string) => subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed = BaseEnv.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  // Per-subgraph variables are open-ended (partners add subgraphs): validate them by pattern.
  const perSubgraph = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (/^MONGODB_URI_[A-Z0-9_]+$/.test(key)) {
      const r = mongoUri.safeParse(value);
      if (!r.success) problems.push(`${key}: must be a mongodb:// or mongodb+srv:// URI`);
      else perSubgraph.set(key, value);
    } else if (/^[A-Z0-9_]+_PORT$/.test(key) && key !== 'PORT') {
      const r = port.safeParse(value);
      if (!r.success) problems.push(`${key}: must be a port number 0-65535`);
      else perSubgraph.set(key, String(r.data));
    } else if (/^[A-Z0-9_]+_URL$/.test(key)) {
      perSubgraph.set(key, value);
    }
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  const base = parsed.data;
  return {
    ...base,
    dataDir: path.resolve(base.DATA_DIR),
    usesEmbeddedEngine: !base.MONGODB_URI && ![...perSubgraph.keys()].some((k) => k.startsWith('MONGODB_URI_')),
    mongoUriFor: (s) => perSubgraph.get(`MONGODB_URI_${envKey(s)}`) ?? base.MONGODB_URI,
    subgraphPort: (s, fallback) => {
      const v = perSubgraph.get(`${envKey(s)}_PORT`);
      return v === undefined ? fallback : Number(v);
    },
    subgraphUrl: (s) => perSubgraph.get(`${envKey(s)}_URL`),
  };
}

/** Loads the config or prints every problem and exits non-zero (for entry points). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

/**
 * `@apollo/gateway` >= 2.14 exports usage metrics to Apollo and probes cloud metadata endpoints
 * unless this is set. The project sets it itself for every gateway it starts.
 */
export function disableApolloTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = '1';
}
