/**
 * `npm run start:gateway`: the gateway alone, routing to the URLs in schema/supergraph.graphql
 * (from schema/supergraph.yaml) or to <NAME>_URL overrides. Port: PORT (default 4000).
 * `-- --contract public` (or GATEWAY_CONTRACT) serves a contract's API only. The supergraph file is
 * reloaded when it changes (`npm run compose` while the gateway runs).
 */
import path from 'node:path';
import { disableApolloTelemetry, loadConfigOrExit } from '../lib/config';
import { exitOnTerminationSignals } from '../lib/http';
import { createLogger } from '../lib/logger';
import { createGatewayServer } from '../gateway/server';
import { tuningFromConfig } from '../gateway/tuning';
import { readSubgraphList } from '../schema/composition';
import { contractFromArgs } from '../gateway/supergraph-source';

disableApolloTelemetry();

async function main() {
  const config = loadConfigOrExit(process.env, 'start:gateway');
  const overrides: Record<string, string> = {};
  for (const s of readSubgraphList()) {
    const url = config.subgraphUrl(s.name);
    if (url) overrides[s.name] = url;
  }
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const gateway = createGatewayServer({
    supergraphPath: config.SUPERGRAPH_FILE ?? path.join(__dirname, '../schema/supergraph.graphql'),
    subgraphUrls: overrides,
    logger,
    // `--contract public` or GATEWAY_CONTRACT=public: serve only that contract's API.
    contract: contractFromArgs(process.argv.slice(2), config.GATEWAY_CONTRACT),
    tuning: tuningFromConfig(config),
  });
  const running = await gateway.listen(config.PORT, config.HOST);
  console.log(`gateway at ${running.url}`);
  // SIGTERM/SIGINT: refuse new connections, let requests in flight complete (SHUTDOWN_GRACE_MS), exit 0 (lib/http.ts).
  exitOnTerminationSignals({ logger, graceMs: config.SHUTDOWN_GRACE_MS, inFlight: running.inFlight, stop: () => running.close() });
}

main().catch((err) => {
  console.error(`start:gateway failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
