/**
 * Composition of the supergraph from `schema/supergraph.yaml` and the subgraph SDL files, with
 * `@apollo/composition` (the same version as the gateway). Used by `npm run compose`, by
 * `npm run schema:check` and by the tests that keep `schema/supergraph.graphql` up to date.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import YAML from 'yaml';

export const SCHEMA_DIR = __dirname;
export const SUPERGRAPH_YAML = path.join(SCHEMA_DIR, 'supergraph.yaml');
export const SUPERGRAPH_FILE = path.join(SCHEMA_DIR, 'supergraph.graphql');

export interface SubgraphEntry {
  name: string;
  url: string;
  owner: string;
  sdlFile: string;
  sdl: string;
}

export interface CompositionReport {
  ok: boolean;
  supergraphSdl?: string;
  errors: string[];
  hints: string[];
  subgraphs: SubgraphEntry[];
}

interface YamlSubgraph {
  routing_url?: string;
  owner?: string;
  schema?: { file?: string };
}

/** Reads the subgraph list. Throws with a message naming the entry when an entry is malformed. */
export function readSubgraphList(yamlFile = SUPERGRAPH_YAML): SubgraphEntry[] {
  const doc = YAML.parse(readFileSync(yamlFile, 'utf8')) as { subgraphs?: Record<string, YamlSubgraph> };
  if (!doc || typeof doc.subgraphs !== 'object' || doc.subgraphs === null) {
    throw new Error(`${yamlFile}: no "subgraphs:" map`);
  }
  const dir = path.dirname(yamlFile);
  return Object.entries(doc.subgraphs).map(([name, entry]) => {
    if (!entry?.routing_url) throw new Error(`${yamlFile}: subgraph "${name}" has no routing_url`);
    if (!entry.schema?.file) throw new Error(`${yamlFile}: subgraph "${name}" has no schema.file`);
    const sdlFile = path.resolve(dir, entry.schema.file);
    let sdl: string;
    try {
      sdl = readFileSync(sdlFile, 'utf8');
    } catch {
      throw new Error(`${yamlFile}: subgraph "${name}": cannot read SDL file ${sdlFile}`);
    }
    return { name, url: entry.routing_url, owner: entry.owner ?? 'unowned', sdlFile, sdl };
  });
}

/** Composes the given subgraphs; never throws for composition problems, reports them instead. */
export function composeSubgraphs(subgraphs: SubgraphEntry[]): CompositionReport {
  const errors: string[] = [];
  const services = [];
  for (const s of subgraphs) {
    try {
      services.push({ name: s.name, url: s.url, typeDefs: parse(s.sdl) });
    } catch (e) {
      errors.push(`[${s.name}] ${path.relative(process.cwd(), s.sdlFile)}: syntax error: ${(e as Error).message}`);
    }
  }
  if (errors.length) return { ok: false, errors, hints: [], subgraphs };
  const result = composeServices(services);
  const hints = (result.hints ?? []).map((h) => `[${h.definition.code}] ${h.message}`);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((e) => {
        const code = (e.extensions?.code as string | undefined) ?? 'COMPOSITION_ERROR';
        return `[${code}] ${e.message}`;
      }),
      hints,
      subgraphs,
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl, errors: [], hints, subgraphs };
}

export function composeFromYaml(yamlFile = SUPERGRAPH_YAML): CompositionReport {
  return composeSubgraphs(readSubgraphList(yamlFile));
}
