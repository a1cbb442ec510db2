/**
 * The subgraphs this repository runs. `npm run subgraph:new` adds a line here; a partner whose
 * subgraph runs elsewhere only adds an entry to schema/supergraph.yaml instead.
 */
import type { SubgraphModule } from '../lib/subgraph-module';
import { subgraph as properties } from '../subgraphs/properties';
import { subgraph as governance } from '../subgraphs/governance';
import { subgraph as elderly } from '../subgraphs/elderly';
import { subgraph as renovation } from '../subgraphs/renovation';

export const SUBGRAPHS: SubgraphModule[] = [properties, governance, elderly, renovation];

export function findSubgraph(name: string): SubgraphModule {
  const found = SUBGRAPHS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown subgraph "${name}"; known: ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
  return found;
}
