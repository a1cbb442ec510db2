import { readFileSync } from 'node:fs';
import { composeFromYaml, SUPERGRAPH_FILE } from '../../schema/composition';

describe('supergraph composition', () => {
  it('composes the subgraph SDL files without errors', () => {
    const report = composeFromYaml();
    expect(report.errors).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('has schema/supergraph.graphql up to date with the SDL files (run `npm run compose` if this fails)', () => {
    const report = composeFromYaml();
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(report.supergraphSdl);
  });
});
