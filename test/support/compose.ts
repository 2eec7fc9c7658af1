// docker-compose.yml as Debian's docker-compose 1.29 resolves it (anchors, merges, variables), for the
// tests that read the stack: there is no Docker engine here, but the validator is enough.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { composeValidatorMissingReason, composeValidatorPath } from '../../tools/ensure-tools.mjs';
import { projectRoot } from '../../tools/local-stack/paths.js';

/** What compose refuses to start without: the two database passwords and the public URL. */
export const REQUIRED_SETTINGS = {
  POSTGRES_PASSWORD: 'herald-db-password-for-the-test',
  TEMPORAL_POSTGRES_PASSWORD: 'temporal-db-password-for-the-test',
  PUBLIC_URL: 'https://herald.example.test',
};

/** Runs Debian's docker-compose on docker-compose.yml with only these settings in its environment. */
export function runDockerCompose(settings: Record<string, string>, ...args: string[]) {
  const missing = composeValidatorMissingReason();
  if (missing) assert.fail(missing);
  return spawnSync(composeValidatorPath, ['-f', 'docker-compose.yml', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...settings },
    encoding: 'utf8',
  });
}

/** docker-compose with the required settings only, as a deployer's smallest .env has them. */
export function dockerCompose(...args: string[]): string {
  const result = runDockerCompose(REQUIRED_SETTINGS, ...args);
  assert.equal(result.status, 0, `docker-compose ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

export interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: (string | { type?: string; source?: string; target: string })[];
  ports?: unknown[];
  expose?: (string | number)[];
  profiles?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: { replicas?: number };
  user?: string;
}
export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** `docker-compose config` resolves anchors, merges and defaults; the validator's own PyYAML reads it. */
export function resolvedCompose(settings: Record<string, string> = REQUIRED_SETTINGS): Compose {
  const result = runDockerCompose(settings, 'config');
  assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
  const yaml = result.stdout;
  const toJson = spawnSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yaml, encoding: 'utf8' },
  );
  assert.equal(toJson.status, 0, `python3 could not read the YAML: ${toJson.stderr}`);
  return JSON.parse(toJson.stdout) as Compose;
}
