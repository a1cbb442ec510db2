/**
 * `npm run compose`: composition problems are reported with the subgraphs, the type or field and
 * the file:line they concern, exit non-zero and write nothing; a clean composition writes the
 * supergraph and the contracts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCompose } from '../../schema/compose';
import { composeSubgraphs, type SubgraphEntry } from '../../schema/composition';
import { LINK, silentOut, tempRepo, type TempRepo } from './helpers';

const entry = (name: string, sdl: string): SubgraphEntry => ({ name, url: `http://127.0.0.1/${name}`, owner: name, sdlFile: `/x/schema/${name}.graphql`, sdl });

describe('compose', () => {
  let repo: TempRepo;
  afterEach(() => repo?.remove());

  it('reports a conflict between two subgraphs with both subgraph names, the field and the lines, and writes nothing', () => {
    repo = tempRepo('compose-');
    repo.write([
      { name: 'places', owner: 'housing', sdl: `${LINK}type Query { community(id: ID!): Community }\ntype Community @key(fields: "id") {\n  id: ID!\n  households: Int\n}\n` },
      { name: 'care', owner: 'civil affairs', sdl: `${LINK}type Community @key(fields: "id") {\n  id: ID!\n  households: String\n}\n` },
    ]);
    const { lines, out } = silentOut();
    const code = runCompose(repo.schemaDir, out);
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(text).toMatch(/composition failed with \d+ error\(s\); nothing was written/);
    expect(text).toMatch(/\[FIELD_TYPE_MISMATCH\] Community\.households \(subgraphs (places, care|care, places)\)/);
    expect(text).toMatch(/at .*places\.graphql:5 \(places\)/);
    expect(text).toMatch(/at .*care\.graphql:4 \(care\)/);
    expect(existsSync(path.join(repo.schemaDir, 'supergraph.graphql'))).toBe(false);
  });

  it('reports a syntax error with the subgraph and line', () => {
    const report = composeSubgraphs([entry('places', `${LINK}type Query {\n  broken(: Int\n}\n`)]);
    expect(report.ok).toBe(false);
    expect(report.errors[0]).toMatch(/^\[SYNTAX_ERROR\] \(subgraph places\): Syntax Error/);
    expect(report.errors[0]).toMatch(/places\.graphql:3:\d+/);
  });

  it('prints hints with the subgraphs and type they concern', () => {
    const report = composeSubgraphs([
      entry('places', `${LINK}type Query { c: Community }\n"A 小区."\ntype Community @key(fields: "id") { id: ID! }\n`),
      entry('care', `${LINK}"A compound."\ntype Community @key(fields: "id") { id: ID! n: Int }\n`),
    ]);
    expect(report.ok).toBe(true);
    expect(report.hints.join('\n')).toMatch(/\[INCONSISTENT_DESCRIPTION\] Community \(subgraphs (places, care|care, places)\)/);
  });

  it('writes the supergraph and each contract, and reports unchanged files on a second run', () => {
    repo = tempRepo('compose-');
    repo.write(
      [
        { name: 'places', owner: 'housing', sdl: `${LINK}type Query { community(id: ID!): Community @tag(name: "public") secret: String }\ntype Community @key(fields: "id") @tag(name: "public") { id: ID! name: String }\n` },
      ],
      { contracts: 'contracts:\n  public:\n    include: [public]\n    exclude: [internal]\n' },
    );
    const first = silentOut();
    expect(runCompose(repo.schemaDir, first.out)).toBe(0);
    expect(first.lines.join('\n')).toMatch(/wrote +.*supergraph\.graphql[\s\S]*wrote +.*public\.graphql[\s\S]*wrote +.*public\.supergraph\.graphql/);
    const api = readFileSync(path.join(repo.schemaDir, 'contracts', 'public.graphql'), 'utf8');
    expect(api).toMatch(/community\(id: ID!\): Community/);
    expect(api).not.toMatch(/secret/);
    const second = silentOut();
    expect(runCompose(repo.schemaDir, second.out)).toBe(0);
    expect(second.lines.filter((l) => l.includes('wrote'))).toEqual([]);
  });
});
