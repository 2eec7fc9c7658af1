// The production stack as files: docker-compose.yml must pass Debian's docker-compose 1.29 (the validator
// CI has; there is no Docker engine here) and hold the parts docs/operations.md describes, and the
// Dockerfile must build the workflow bundle and run as non-root. What only `docker compose up` can show
// (images pulled, containers healthy) is out of reach here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { composeValidatorMissingReason, composeValidatorPath } from '../tools/ensure-tools.mjs';
import { projectRoot } from '../tools/local-stack/paths.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../src/workflows/definitions.js';
import { ALL_QUEUES } from '../src/workers/create-workers.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');

/** Runs Debian's docker-compose on docker-compose.yml with an empty environment, as CI does. */
function dockerCompose(...args: string[]): string {
  const missing = composeValidatorMissingReason();
  if (missing) assert.fail(missing);
  const result = spawnSync(composeValidatorPath, ['-f', 'docker-compose.yml', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `docker-compose ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: (string | { type?: string; source?: string; target: string })[];
  ports?: unknown[];
  profiles?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: { replicas?: number };
  user?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** `docker-compose config` resolves anchors, merges and defaults; the validator's own PyYAML reads it. */
function resolvedCompose(): Compose {
  const yaml = dockerCompose('config');
  const toJson = spawnSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yaml, encoding: 'utf8' },
  );
  assert.equal(toJson.status, 0, `python3 could not read the YAML: ${toJson.stderr}`);
  return JSON.parse(toJson.stdout) as Compose;
}

const words = (value: string[] | string | undefined) =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');
const mounts = (service: Service) =>
  (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
const imageName = (service: Service) => service.image?.split(':')[0] ?? '';
const imageTag = (service: Service) => service.image?.split(':')[1];

describe('docker-compose.yml', () => {
  it('passes `docker-compose -f docker-compose.yml config -q` (Debian docker-compose 1.29)', () => {
    dockerCompose('config', '-q');
    assert.match(dockerCompose('version', '--short'), /^1\.29\./);
  });

  let compose: Compose;
  before(() => {
    compose = resolvedCompose();
  });
  const service = (name: string) => {
    assert.ok(compose.services[name], `docker-compose.yml has no service "${name}"`);
    return compose.services[name]!;
  };
  const byCommand = (pattern: RegExp) =>
    Object.entries(compose.services).filter(([, s]) =>
      pattern.test(`${words(s.entrypoint)} ${words(s.command)}`),
    );
  const heraldServices = () => Object.entries(compose.services).filter(([, s]) => s.build);

  it('keeps both databases in named volumes', () => {
    for (const [name, volume] of [
      ['postgres', 'herald-pgdata'],
      ['temporal-postgres', 'temporal-pgdata'],
    ] as const) {
      assert.equal(imageName(service(name)), 'postgres');
      assert.deepEqual(mounts(service(name)), [{ source: volume, target: '/var/lib/postgresql/data' }]);
      assert.ok(compose.volumes && volume in compose.volumes, `${volume} is not a named volume`);
    }
  });

  it('pins every image and uses no temporalio/auto-setup', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      assert.doesNotMatch(s.image ?? '', /auto-setup/, `${name} uses the deprecated auto-setup image`);
      if (s.build) continue; // Herald's own image
      assert.ok(imageTag(s) && imageTag(s) !== 'latest', `${name}: image ${s.image} has no pinned tag`);
    }
  });

  it('sets up Temporal the way temporalio/samples-server does: schema job, then server, then namespace', () => {
    const [schema, ...moreSchemaJobs] = byCommand(/setup-schema\.sh/);
    assert.ok(schema, 'no service runs deploy/temporal/setup-schema.sh');
    assert.equal(moreSchemaJobs.length, 0);
    const [schemaName, schemaJob] = schema;
    assert.equal(imageName(schemaJob), 'temporalio/admin-tools');
    const temporal = service('temporal');
    assert.equal(imageName(temporal), 'temporalio/server');
    assert.equal(imageTag(temporal), imageTag(schemaJob), 'server and admin-tools versions move together');
    assert.equal(temporal.depends_on?.[schemaName]?.condition, 'service_completed_successfully');
    assert.equal(temporal.environment?.DB, 'postgres12');

    const script = read('deploy/temporal/setup-schema.sh');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) {
      assert.match(script, new RegExp(`sql --db "\\$db" ${step}`), `setup-schema.sh lacks ${step}`);
    }
    assert.match(script, /temporal-sql-tool --plugin postgres12/);
    assert.match(script, /for db in temporal temporal_visibility/);

    const [namespace] = byCommand(/create-namespace\.sh/);
    assert.ok(namespace, 'no service runs deploy/temporal/create-namespace.sh');
    assert.equal(namespace[1].depends_on?.temporal?.condition, 'service_healthy');
    assert.equal(imageName(service('temporal-ui')), 'temporalio/ui');
  });

  it("registers every search attribute the workflow sets, with the workflow's types", () => {
    const script = read('deploy/temporal/create-namespace.sh');
    const registered = [...script.matchAll(/^register (\w+) (\w+)$/gm)].map(
      ([, name, type]) => `${name}=${type}`,
    );
    assert.deepEqual(registered.sort(), [...SEARCH_ATTRIBUTE_FLAGS].sort());
  });

  it('applies the Prisma migrations in a job every Herald process waits for', () => {
    const migrate = service('migrate');
    assert.match(words(migrate.command), /prisma migrate deploy$/);
    assert.equal(migrate.depends_on?.postgres?.condition, 'service_healthy');
    for (const [name, s] of heraldServices().filter(([name]) => name !== 'migrate')) {
      assert.equal(s.depends_on?.migrate?.condition, 'service_completed_successfully', name);
      assert.equal(s.depends_on?.['temporal-namespace']?.condition, 'service_completed_successfully', name);
    }
  });

  it('runs one worker service per task queue, each with metrics reachable in the network', () => {
    const workers = byCommand(/src\/workers\/main\.ts/);
    const queues = workers.map(([, s]) => String(s.environment?.HERALD_QUEUES));
    assert.deepEqual(queues.sort(), [...ALL_QUEUES].sort());
    for (const [name, s] of workers) {
      assert.equal(name, `worker-${s.environment?.HERALD_QUEUES}`);
      assert.equal(s.environment?.WORKER_METRICS_HOST, '0.0.0.0');
      assert.ok(s.environment?.WORKER_METRICS_PORT, `${name} serves no metrics`);
      assert.equal(s.ports, undefined, `${name} publishes a port`);
    }
  });

  it('puts the scalable API behind nginx, with /healthz for the replicas and /readyz for the balancer', () => {
    const api = service('api');
    assert.equal(api.ports, undefined, 'the API replicas must not publish a host port (they scale)');
    assert.ok((api.deploy?.replicas ?? 0) >= 1);
    assert.match(words(api.healthcheck?.test), /\/healthz/);

    const proxy = service('proxy');
    assert.equal(imageName(proxy), 'nginx');
    assert.equal(proxy.depends_on?.api?.condition, 'service_healthy');
    assert.equal(proxy.ports?.length, 1);
    assert.match(words(proxy.healthcheck?.test), /\/readyz/);
    const conf = mounts(proxy).find((m) => m.target === '/etc/nginx/conf.d/default.conf');
    assert.ok(conf, 'the proxy does not mount its configuration');
    assert.equal(path.relative(projectRoot, conf.source), 'deploy/nginx/herald.conf');
    const nginx = read('deploy/nginx/herald.conf');
    // Re-resolved, so replicas added by --scale join without a reload.
    assert.match(nginx, /server api:3000 resolve/);
    assert.match(nginx, /resolver 127\.0\.0\.11/);
    assert.match(nginx, /proxy_pass http:\/\/herald_api;/);
  });

  it('has the bot and the SMTP sink behind their profiles', () => {
    assert.deepEqual(service('bot').profiles, ['bot']);
    assert.match(words(service('bot').command), /src\/bot\/main\.ts/);
    assert.ok(service('worker-telegram').profiles?.includes('bot'), 'the bot needs the telegram worker');
    assert.deepEqual(service('maildev').profiles, ['staging']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile
    .split(/^FROM /m)
    .slice(1)
    .map((text) => ({ name: /^\S+ AS (\S+)/i.exec(text)?.[1] ?? '', text }));
  const runtime = stages.at(-1)!;

  it('is multi-stage, and the runtime stage runs as a non-root user', () => {
    assert.ok(stages.length >= 3, 'expected deps, bundle and runtime stages');
    const users = [...runtime.text.matchAll(/^USER (\S+)/gm)].map(([, user]) => user);
    assert.ok(users.length > 0, 'the runtime stage sets no USER');
    assert.doesNotMatch(users.at(-1)!, /^(root|0)(:.*)?$/);
  });

  it('builds the workflow bundle in the image and points the worker at it', () => {
    const build = stages.find((s) => /RUN .*scripts\/bundle-workflows\.ts (\S+)/.test(s.text));
    assert.ok(build, 'no stage runs src/workers/bundle-workflows.ts');
    const [, bundlePath] = /RUN .*scripts\/bundle-workflows\.ts (\S+)/.exec(build.text)!;
    assert.match(runtime.text, new RegExp(`COPY --from=${build.name} ${bundlePath} `));
    assert.match(runtime.text, new RegExp(`WORKFLOW_BUNDLE_PATH=${bundlePath}\\b`));
  });

  it('generates the Prisma client in the image, not from the build context', () => {
    assert.match(read('.dockerignore'), /^src\/generated$/m);
    assert.match(read('.dockerignore'), /^node_modules$/m);
    assert.match(runtime.text, /COPY --from=deps \/app\/src\/generated/);
  });
});
