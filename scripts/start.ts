/**
 * `npm start`: the whole federation with demo data. Embedded engine with data under DATA_DIR
 * (default .data/) unless MONGODB_URI (or MONGODB_URI_<SUBGRAPH>) is set; subgraphs on
 * 4001-4004 (or <NAME>_PORT), gateway on PORT (default 4000). Ctrl-C / SIGTERM stop everything.
 */
import path from 'node:path';
import { disableApolloTelemetry, loadConfigOrExit } from '../lib/config';
import { contractFromArgs } from '../gateway/supergraph-source';
import { startStack } from './stack';

disableApolloTelemetry();

async function main() {
  const config = loadConfigOrExit();
  const stack = await startStack({
    dbPath: path.join(config.dataDir, 'db'),
    mongoUriFor: (name) => config.mongoUriFor(name),
    host: config.HOST,
    gatewayPort: config.PORT,
    subgraphPort: (mod) => config.subgraphPort(mod.name, mod.defaultPort),
    seed: 'if-empty',
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
    'Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, stopping…`);
    await stack.stop();
    console.log('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
