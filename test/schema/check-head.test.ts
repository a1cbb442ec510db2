/**
 * CI runs `npm run schema:check` through this suite (`npm test` runs every suite): on the
 * project's real schema folder, composition succeeds, schema/supergraph.graphql and the contract
 * files are what `npm run compose` writes, and the API schema has no breaking change against the
 * last commit on main (the deprecation policy applies). Fix a failure with `npm run compose` (and
 * commit the result) or by following CONTRIBUTING.md; the message names the owning subgraph.
 */
import { runSchemaCheck } from '../../schema/checks';

it('schema:check passes on the repository (composition, generated files up to date, no breaking change vs main)', async () => {
  const res = await runSchemaCheck();
  expect(res.errors).toEqual([]);
  expect(res.ok).toBe(true);
}, 120_000);
