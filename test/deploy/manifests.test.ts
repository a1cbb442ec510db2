/**
 * The deployment files (deploy/) cannot run on these machines (no container daemon, no cluster), so
 * this checks what can go wrong on paper: every environment variable they set is one the
 * configuration (lib/config.ts) knows and the entry point they start honours; every probe and health
 * check asks `/health` or `/ready` on the port the service listens on; every Service, published
 * port and routing URL points at that port; and the image is multi-stage and runs as a non-root user.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { isKnownVariable, loadConfig, unhonouredVariables, type EntryPoint } from '../../lib/config';
import { readSubgraphList } from '../../schema/composition';

const DEPLOY = path.join(__dirname, '../../deploy');
const readYaml = (file: string) => YAML.parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((d) => d.toJS({ maxAliasCount: -1 }) as any).filter(Boolean);

/** Each subgraph's port: its routing URL in schema/supergraph.yaml (the `<NAME>_PORT` default). */
const SUBGRAPH_PORTS = Object.fromEntries(readSubgraphList().map((s) => [s.name, Number(new URL(s.url).port)]));
const GATEWAY_PORT = loadConfig({}).PORT;

interface Service {
  where: string;
  command: string[];
  env: Record<string, string | undefined>;
}

/** What a service's command starts, and the port it listens on given its environment. */
function serviceOf(s: Service): { entry: EntryPoint; name: string; port: number } {
  const cmd = s.command.join(' ');
  const sub = /^npm run start:subgraph -- ([a-z0-9-]+)$/.exec(cmd);
  if (sub) {
    const name = sub[1]!;
    expect([s.where, name in SUBGRAPH_PORTS]).toEqual([s.where, true]);
    const own = s.env[`${name.toUpperCase()}_PORT`];
    return { entry: 'start:subgraph', name, port: own ? Number(own) : SUBGRAPH_PORTS[name]! };
  }
  expect([s.where, cmd]).toEqual([s.where, 'npm run start:gateway']);
  return { entry: 'start:gateway', name: 'gateway', port: s.env.PORT ? Number(s.env.PORT) : GATEWAY_PORT };
}

function checkEnvironment(s: Service, entry: EntryPoint) {
  const names = Object.keys(s.env);
  expect([s.where, names.filter((n) => !isKnownVariable(n))]).toEqual([s.where, []]);
  // Literal values must pass the configuration's own validation (secrets are checked by name only).
  const literal = Object.fromEntries(Object.entries(s.env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  const withSecrets = { ...literal, JWKS_URL: literal.JWKS_URL ?? 'https://idp.example/jwks.json' };
  expect(() => loadConfig(withSecrets)).not.toThrow();
  expect([s.where, unhonouredVariables(literal, entry)]).toEqual([s.where, []]);
}

describe('deploy/k8s', () => {
  const docs = readdirSync(path.join(DEPLOY, 'k8s'))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => readYaml(path.join(DEPLOY, 'k8s', f)).map((doc) => ({ file: f, doc })));
  const deployments = docs.filter((d) => d.doc.kind === 'Deployment');
  const services = docs.filter((d) => d.doc.kind === 'Service');
  const secrets = docs.filter((d) => d.doc.kind === 'Secret');

  test('there is a Deployment and a Service for the gateway and for every subgraph of schema/supergraph.yaml', () => {
    const expected = ['gateway', ...Object.keys(SUBGRAPH_PORTS)].sort();
    expect(deployments.map((d) => d.doc.metadata.name).sort()).toEqual(expected);
    expect(services.map((d) => d.doc.metadata.name).sort()).toEqual(expected);
  });

  test.each(['gateway', 'properties', 'governance', 'elderly', 'renovation'])('%s: known variables, probes on /health and /ready at its port, a Service on that port, resource requests, JWKS from a Secret', (name) => {
    const dep = deployments.find((d) => d.doc.metadata.name === name)!.doc;
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    const [c] = dep.spec.template.spec.containers;
    const env: Record<string, string | undefined> = {};
    for (const e of c.env) {
      env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        // A secret's value is the placeholder of deploy/k8s/secrets.yaml (validated like the rest).
        const secret = secrets.find((s) => s.doc.metadata.name === ref.name);
        expect([e.name, secret && ref.key in secret.doc.stringData]).toEqual([e.name, true]);
        env[e.name] = secret!.doc.stringData[ref.key];
      }
    }
    const svc = serviceOf({ where: `k8s ${name}`, command: c.command, env });
    expect(svc.name).toBe(name);
    checkEnvironment({ where: `k8s ${name}`, command: c.command, env }, svc.entry);
    for (const k of ['JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE']) expect(c.env.find((e: any) => e.name === k)?.valueFrom?.secretKeyRef?.name).toBe('city-graph-jwks');

    const port = c.ports.find((p: any) => p.name === 'http');
    expect(port.containerPort).toBe(svc.port);
    const portOf = (p: number | string) => (typeof p === 'number' ? p : c.ports.find((x: any) => x.name === p)?.containerPort);
    expect({ path: c.livenessProbe.httpGet.path, port: portOf(c.livenessProbe.httpGet.port) }).toEqual({ path: '/health', port: svc.port });
    expect({ path: c.readinessProbe.httpGet.path, port: portOf(c.readinessProbe.httpGet.port) }).toEqual({ path: '/ready', port: svc.port });
    expect({ path: c.startupProbe.httpGet.path, port: portOf(c.startupProbe.httpGet.port) }).toEqual({ path: '/health', port: svc.port });

    const service = services.find((d) => d.doc.metadata.name === name)!.doc;
    expect(service.spec.selector).toEqual(dep.spec.selector.matchLabels);
    expect(dep.spec.template.metadata.labels).toMatchObject(dep.spec.selector.matchLabels);
    expect(service.spec.ports.map((p: any) => [p.port, portOf(p.targetPort)])).toEqual([[svc.port, svc.port]]);

    expect(c.resources.requests.cpu).toMatch(/^\d+m$/);
    expect(c.resources.requests.memory).toMatch(/^\d+Mi$/);
    expect(dep.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  test('the gateway routes every subgraph to its Service on the subgraph’s port', () => {
    const [c] = deployments.find((d) => d.doc.metadata.name === 'gateway')!.doc.spec.template.spec.containers;
    for (const [name, port] of Object.entries(SUBGRAPH_PORTS)) {
      const url = new URL(c.env.find((e: any) => e.name === `${name.toUpperCase()}_URL`).value);
      expect([name, url.hostname.split('.')[0], Number(url.port), url.pathname]).toEqual([name, name, port, '/graphql']);
    }
  });
});

describe('deploy/compose.yaml', () => {
  const compose = readYaml(path.join(DEPLOY, 'compose.yaml'))[0];
  const app = Object.entries(compose.services as Record<string, any>).filter(([, s]) => Array.isArray(s.command) && s.command[0] === 'npm');

  test('a replica set of three MongoDB members with its init, four subgraphs and two gateway replicas', () => {
    const mongos = Object.entries(compose.services as Record<string, any>).filter(([, s]) => s.command?.includes('--replSet'));
    expect(mongos).toHaveLength(3);
    expect(JSON.stringify(compose.services['mongo-init'].command)).toMatch(/rs\.initiate/);
    const started = app.map(([, s]) => serviceOf({ where: 'compose', command: s.command, env: s.environment ?? {} }).name).sort();
    expect(started).toEqual(['gateway', ...Object.keys(SUBGRAPH_PORTS)].sort());
    expect(compose.services.gateway.deploy.replicas).toBe(2);
  });

  test.each(['gateway', 'properties', 'governance', 'elderly', 'renovation'])('%s: known variables, health check on /health or /ready at its port, routing URLs at the subgraphs’ ports', (name) => {
    const s = compose.services[name];
    const env = Object.fromEntries(Object.entries(s.environment as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    const svc = serviceOf({ where: `compose ${name}`, command: s.command, env });
    checkEnvironment({ where: `compose ${name}`, command: s.command, env }, svc.entry);
    const check = JSON.stringify(s.healthcheck.test);
    expect(check).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${svc.port}/(health|ready)'`));
    if (svc.entry === 'start:subgraph') expect(s.expose).toEqual([String(svc.port)]);
    else {
      expect(s.ports.map((p: string) => p.split(':').pop())).toEqual([String(svc.port)]);
      for (const [sub, port] of Object.entries(SUBGRAPH_PORTS)) expect(env[`${sub.toUpperCase()}_URL`]).toBe(`http://${sub}:${port}/graphql`);
    }
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  test('multi-stage, runs as a non-root user, starts the gateway unless told to start a subgraph', () => {
    expect((text.match(/^FROM /gm) ?? []).length).toBeGreaterThanOrEqual(2);
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["npm", "run", "start:gateway"\]$/m);
    expect(runtime).toMatch(/npm_config_ignore_scripts=true/);
    // Every variable the image sets is one the configuration knows (npm_config_* are npm's own).
    const envBlock = /^ENV ([\s\S]*?)(?:\n(?!\s))/m.exec(runtime)![1]!;
    const names = [...envBlock.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!).filter((n) => !n.startsWith('npm_config_'));
    expect(names.filter((n) => !isKnownVariable(n))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['NODE_ENV', 'HOST']));
  });
});
