/**
 * Helpers of the schema-ownership tests: throw-away schema folders in temporary git repositories
 * (synthetic "base" SDL sets, never the project's real history) and tiny in-process subgraphs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import YAML from 'yaml';
import { runCompose } from '../../schema/compose';

export const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@tag"])\n';

export interface SyntheticSubgraph {
  name: string;
  owner: string;
  sdl: string;
  port?: number;
}

export interface TempRepo {
  dir: string;
  schemaDir: string;
  write(subgraphs: SyntheticSubgraph[], opts?: { contracts?: string }): void;
  /** Writes the subgraphs, composes (must succeed) and optionally commits. */
  compose(): string[];
  commit(message: string): void;
  git(...args: string[]): string;
  remove(): void;
}

/** A temporary git repository with a schema/ folder (supergraph.yaml + one SDL per subgraph). */
export function tempRepo(prefix = 'schema-check-'): TempRepo {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const schemaDir = path.join(dir, 'schema');
  mkdirSync(schemaDir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' },
    });
  git('init', '-q', '-b', 'main');
  return {
    dir,
    schemaDir,
    write(subgraphs, opts = {}) {
      const doc = {
        subgraphs: Object.fromEntries(
          subgraphs.map((s, i) => [
            s.name,
            { routing_url: `http://127.0.0.1:${s.port ?? 4101 + i}/graphql`, owner: s.owner, schema: { file: `./${s.name}.graphql` } },
          ]),
        ),
      };
      writeFileSync(path.join(schemaDir, 'supergraph.yaml'), YAML.stringify(doc));
      for (const s of subgraphs) writeFileSync(path.join(schemaDir, `${s.name}.graphql`), s.sdl);
      if (opts.contracts) {
        mkdirSync(path.join(schemaDir, 'contracts'), { recursive: true });
        writeFileSync(path.join(schemaDir, 'contracts', 'contracts.yaml'), opts.contracts);
      }
    },
    compose() {
      const lines: string[] = [];
      const sink = (m: string) => lines.push(m);
      const code = runCompose(schemaDir, { log: sink, warn: sink, error: sink });
      if (code !== 0) throw new Error(`compose failed:\n${lines.join('\n')}`);
      return lines;
    },
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '-m', message);
    },
    git,
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const silentOut = () => {
  const lines: string[] = [];
  const sink = (m: string) => lines.push(m);
  return { lines, out: { log: sink, warn: sink, error: sink } };
};

export interface RunningTiny {
  url: string;
  stop(): Promise<void>;
}

/** A subgraph served by @apollo/subgraph in this process, on 127.0.0.1 port 0 (no database). */
export async function startTinySubgraph(sdl: string, resolvers: GraphQLResolverMap<unknown>): Promise<RunningTiny> {
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers }), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url: new URL('/graphql', url).toString(), stop: () => server.stop() };
}

export async function post(url: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: res.status, ...body };
}
