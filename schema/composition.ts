/**
 * Composition of the supergraph from `schema/supergraph.yaml` and the subgraph SDL files, with
 * `@apollo/composition` (the same version as the gateway). Used by `npm run compose`, by
 * `npm run schema:check`, by the scaffolder and by the tests that keep `schema/supergraph.graphql`
 * up to date. Every error and hint is reported with the subgraph(s) and the type or field it
 * concerns, so the bureau that owns the problem can see it is theirs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { Kind, parse, printSchema, Source, type ASTNode, type DocumentNode, type GraphQLError } from 'graphql';
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

/** One composition error or hint, located in the subgraph(s) it concerns. */
export interface CompositionProblem {
  code: string;
  message: string;
  /** Subgraph names the problem concerns (from the AST nodes composition points at). */
  subgraphs: string[];
  /** `Type` or `Type.field` the problem concerns, when known. */
  coordinate?: string;
  /** `schema/<file>.graphql:<line>` for each node. */
  locations: string[];
}

export interface CompositionReport {
  ok: boolean;
  supergraphSdl?: string;
  /** The API schema (what clients see), printed; set when ok. */
  apiSdl?: string;
  /** Rendered problems, one string each (`[CODE] Type.field (subgraphs a, b): message`). */
  errors: string[];
  hints: string[];
  errorDetails: CompositionProblem[];
  hintDetails: CompositionProblem[];
  subgraphs: SubgraphEntry[];
}

interface YamlSubgraph {
  routing_url?: string;
  owner?: string;
  schema?: { file?: string };
}

/**
 * Parses the text of a supergraph.yaml. `readSdl` reads an SDL file given its path relative to the
 * yaml's folder (a file on disk, or a blob at a git ref for `schema:check --base`).
 */
export function parseSubgraphList(
  yamlText: string,
  readSdl: (relativePath: string) => string,
  label = 'supergraph.yaml',
  dir = SCHEMA_DIR,
): SubgraphEntry[] {
  const doc = YAML.parse(yamlText) as { subgraphs?: Record<string, YamlSubgraph> };
  if (!doc || typeof doc.subgraphs !== 'object' || doc.subgraphs === null) {
    throw new Error(`${label}: no "subgraphs:" map`);
  }
  return Object.entries(doc.subgraphs).map(([name, entry]) => {
    if (!entry?.routing_url) throw new Error(`${label}: subgraph "${name}" has no routing_url`);
    if (!entry.schema?.file) throw new Error(`${label}: subgraph "${name}" has no schema.file`);
    const sdlFile = path.resolve(dir, entry.schema.file);
    let sdl: string;
    try {
      sdl = readSdl(entry.schema.file);
    } catch {
      throw new Error(`${label}: subgraph "${name}": cannot read SDL file ${entry.schema.file}`);
    }
    return { name, url: entry.routing_url, owner: entry.owner ?? 'unowned', sdlFile, sdl };
  });
}

/** Reads the subgraph list. Throws with a message naming the entry when an entry is malformed. */
export function readSubgraphList(yamlFile = SUPERGRAPH_YAML): SubgraphEntry[] {
  const dir = path.dirname(yamlFile);
  return parseSubgraphList(
    readFileSync(yamlFile, 'utf8'),
    (rel) => readFileSync(path.resolve(dir, rel), 'utf8'),
    path.relative(process.cwd(), yamlFile) || yamlFile,
    dir,
  );
}

/** Parses each SDL with its subgraph name as the source name, so AST locations say which subgraph. */
export function parseSubgraphs(subgraphs: SubgraphEntry[]): { docs: Map<string, DocumentNode>; errors: CompositionProblem[] } {
  const docs = new Map<string, DocumentNode>();
  const errors: CompositionProblem[] = [];
  for (const s of subgraphs) {
    try {
      docs.set(s.name, parse(new Source(s.sdl, s.name)));
    } catch (e) {
      const err = e as GraphQLError;
      const loc = err.locations?.[0];
      errors.push({
        code: 'SYNTAX_ERROR',
        message: err.message,
        subgraphs: [s.name],
        locations: [`${displayPath(s.sdlFile)}${loc ? `:${loc.line}:${loc.column}` : ''}`],
      });
    }
  }
  return { docs, errors };
}

/** Composes the given subgraphs; never throws for composition problems, reports them instead. */
export function composeSubgraphs(subgraphs: SubgraphEntry[]): CompositionReport {
  const { docs, errors: syntax } = parseSubgraphs(subgraphs);
  if (syntax.length) return report(false, subgraphs, syntax, []);
  return composeDocuments(subgraphs, docs);
}

/**
 * Composes already-parsed subgraph documents (the contract build passes filtered documents).
 * `docs` must have been parsed with the subgraph name as the source name (see parseSubgraphs).
 */
export function composeDocuments(subgraphs: SubgraphEntry[], docs: Map<string, DocumentNode>): CompositionReport {
  const locator = new Locator(subgraphs, docs);
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: docs.get(s.name)! })));
  const hints = (result.hints ?? []).map((h) =>
    locator.problem(h.definition.code, h.message, (h.nodes ?? []) as readonly ASTNode[], h.coordinate),
  );
  if (result.errors) {
    const errors = result.errors.map((e) =>
      locator.problem((e.extensions?.code as string | undefined) ?? 'COMPOSITION_ERROR', e.message, e.nodes ?? []),
    );
    return report(false, subgraphs, errors, hints);
  }
  const apiSdl = printSchema(result.schema.toAPISchema().toGraphQLJSSchema());
  return { ...report(true, subgraphs, [], hints), supergraphSdl: result.supergraphSdl, apiSdl };
}

export function composeFromYaml(yamlFile = SUPERGRAPH_YAML): CompositionReport {
  return composeSubgraphs(readSubgraphList(yamlFile));
}

/** `[CODE] Type.field (subgraphs a, b): message` followed by the locations. */
export function renderProblem(p: CompositionProblem): string {
  const where = p.subgraphs.length ? ` (subgraph${p.subgraphs.length > 1 ? 's' : ''} ${p.subgraphs.join(', ')})` : '';
  const coord = p.coordinate ? ` ${p.coordinate}` : '';
  const locs = p.locations.length ? `\n      at ${p.locations.join('\n      at ')}` : '';
  return `[${p.code}]${coord}${where}: ${p.message}${locs}`;
}

function report(ok: boolean, subgraphs: SubgraphEntry[], errors: CompositionProblem[], hints: CompositionProblem[]): CompositionReport {
  return {
    ok,
    errors: errors.map(renderProblem),
    hints: hints.map(renderProblem),
    errorDetails: errors,
    hintDetails: hints,
    subgraphs,
  };
}

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Maps AST nodes composition points at back to subgraph names, files, lines and coordinates. */
class Locator {
  private files = new Map<string, string>();
  /** Per subgraph: [start, end, coordinate] of every type and field definition, in document order. */
  private ranges = new Map<string, [number, number, string][]>();

  constructor(subgraphs: SubgraphEntry[], docs: Map<string, DocumentNode>) {
    for (const s of subgraphs) this.files.set(s.name, displayPath(s.sdlFile));
    for (const [name, doc] of docs) {
      const ranges: [number, number, string][] = [];
      for (const def of doc.definitions) {
        if (!('name' in def) || !def.name || !def.loc) continue;
        const typeName = def.name.value;
        ranges.push([def.loc.start, def.loc.end, typeName]);
        const members =
          'fields' in def && def.fields ? def.fields : def.kind === Kind.ENUM_TYPE_DEFINITION || def.kind === Kind.ENUM_TYPE_EXTENSION ? def.values ?? [] : [];
        for (const f of members) if (f.loc) ranges.push([f.loc.start, f.loc.end, `${typeName}.${f.name.value}`]);
      }
      this.ranges.set(name, ranges);
    }
  }

  problem(code: string, message: string, nodes: readonly ASTNode[], coordinate?: string): CompositionProblem {
    const subgraphs = new Set<string>();
    const locations: string[] = [];
    const coords = new Set<string>();
    for (const node of nodes) {
      const source = node.loc?.source?.name;
      if (!source || !this.files.has(source)) continue;
      subgraphs.add(source);
      // The line of the element's name, not of its description above it.
      const named = (node as { name?: { loc?: { start: number } } }).name?.loc?.start ?? node.loc?.start;
      const line = node.loc && named !== undefined ? lineOf(node.loc.source.body, named) : undefined;
      locations.push(`${this.files.get(source)}${line ? `:${line}` : ''} (${source})`);
      const c = this.coordinateAt(source, node.loc!.start);
      if (c) coords.add(c);
    }
    // Some messages name subgraphs only in text: `in subgraph "x"` / `subgraphs "a" and "b"`.
    if (!subgraphs.size) {
      for (const name of this.files.keys()) if (message.includes(`"${name}"`)) subgraphs.add(name);
    }
    const coord = coordinate ?? (coords.size ? [...coords].sort((a, b) => b.length - a.length)[0] : firstCoordinate(message));
    return { code, message, subgraphs: [...subgraphs], coordinate: coord, locations };
  }

  private coordinateAt(subgraph: string, offset: number): string | undefined {
    let best: [number, number, string] | undefined;
    for (const r of this.ranges.get(subgraph) ?? []) {
      if (r[0] <= offset && offset < r[1] && (!best || r[0] >= best[0])) best = r;
    }
    return best?.[2];
  }
}

function lineOf(body: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < body.length; i++) if (body.charCodeAt(i) === 10) line++;
  return line;
}

function firstCoordinate(message: string): string | undefined {
  return /"([A-Z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)"/.exec(message)?.[1];
}
