/**
 * `npm start`: the whole federation with demo data. Embedded engine with data under DATA_DIR
 * (default .data/) unless MONGODB_URI (or MONGODB_URI_<SUBGRAPH>) is set; subgraphs on
 * 4001-4004 (or <NAME>_PORT), gateway on PORT (default 4000). Ctrl-C / SIGTERM stop everything.
 *
 * Demo data: the article's four 小区 (exactly their reported facts) and, next to them, a synthetic
 * city of 400 小区 (seed 42) dated relative to the product clock, loaded into an empty store in a
 * few seconds and regenerated when it has gone stale (`npm run seed -- --communities N` chooses
 * another size, 0 none).
 */
import path from 'node:path';
import { cstDate } from '../lib/clock';
import { disableApolloTelemetry, loadConfigOrExit } from '../lib/config';
import { exitOnTerminationSignals } from '../lib/http';
import { contractFromArgs } from '../gateway/supergraph-source';
import { tuningFromConfig } from '../gateway/tuning';
import { startStack } from './stack';
import { DEMO_CITY } from './synthetic/seed-city';

disableApolloTelemetry();

async function main() {
  const config = loadConfigOrExit(process.env, 'start');
  const stack = await startStack({
    dbPath: path.join(config.dataDir, 'db'),
    mongoUriFor: (name) => config.mongoUriFor(name),
    host: config.HOST,
    gatewayPort: config.PORT,
    subgraphPort: (mod) => config.subgraphPort(mod.name, mod.defaultPort),
    seed: 'if-empty',
    demoCity: { ...DEMO_CITY, communities: config.DEMO_COMMUNITIES },
    // Every gateway variable (timeouts, dedup, caches, safelist) applies here as in start:gateway.
    gatewayTuning: tuningFromConfig(config),
    logLevel: config.LOG_LEVEL,
    supergraphPath: config.SUPERGRAPH_FILE,
    contract: contractFromArgs(process.argv.slice(2), config.GATEWAY_CONTRACT),
  });
  const lines = [
    '',
    'City community graph is running.',
    `  gateway (GraphQL + Apollo Sandbox): ${stack.gatewayUrl}`,
    `  gateway health / readiness:         ${stack.gatewayUrl.replace('/graphql', '/health')}  ${stack.gatewayUrl.replace('/graphql', '/ready')}`,
    ...stack.subgraphs.map((s) => `  subgraph ${s.name.padEnd(12)} ${s.url}`),
    stack.engineUri ? `  embedded MongoDB engine:            ${stack.engineUri} (data in ${path.join(config.dataDir, 'db')})` : '  database: MongoDB from MONGODB_URI',
    `  demo data: the article's four 小区 (cm_320104_0001, cm_320113_0001, cm_320706_0001, cm_320706_0002)${syntheticLine(stack.syntheticCity)}`,
    'Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
  // SIGTERM/SIGINT: the gateway stops first (its requests in flight complete, SHUTDOWN_GRACE_MS),
  // then each subgraph drains the same way, then the databases and the engine close (lib/http.ts).
  // The margin leaves the engine time for its closing snapshot (its journal is durable either way).
  exitOnTerminationSignals({ logger: stack.logger, graceMs: config.SHUTDOWN_GRACE_MS, marginMs: 30_000, stop: () => stack.stop() });
}

function syntheticLine(city: Awaited<ReturnType<typeof startStack>>['syntheticCity']): string {
  const m = city?.marker;
  if (!m || m.communities === 0) return '';
  const loaded = city.written ? `, loaded in ${(city.written.totalMs / 1000).toFixed(1)} s` : '';
  return `\n             and a synthetic city of ${m.communities} 小区 (ids cm_<district>_s<nnnnn>, seed ${m.seed}, as of ${cstDate(m.asOf)}${loaded})`;
}

main().catch((err) => {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
