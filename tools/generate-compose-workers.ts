// The channel workers of docker-compose.yml, one service per channel in the registry, each with its own
// provider's variables and no other channel's: `npm run generate` rewrites the block between its two
// marker lines; test/compose.test.ts fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNEL_DEFINITIONS, CHANNELS } from '../src/activities/channels/registry.js';
import { CONFIG_SLICES } from '../src/platform/config.js';
import { variablesOf } from '../src/platform/config/define.js';
import { projectRoot } from './local-stack/paths.js';

export const COMPOSE_FILE = path.join(projectRoot, 'docker-compose.yml');
const BEGIN =
  '  # ---- channel workers: generated from src/activities/channels/registry.ts by `npm run generate` ----';
const END = '  # ---- end of the channel workers ----';

/** What the channel's worker gets besides the shared settings: its workerEnvironment, or its whole slice. */
function workerEnvironment(channel: (typeof CHANNELS)[number]): readonly string[] {
  const definition = CHANNEL_DEFINITIONS[channel];
  const names = definition.workerEnvironment ?? Object.keys(definition.config.variables);
  const defined = variablesOf(CONFIG_SLICES);
  const unknown = names.filter((name) => !defined.has(name));
  if (unknown.length > 0)
    throw new Error(`${channel}'s workerEnvironment names no variable: ${unknown.join(', ')}`);
  return names;
}

/**
 * The block: each channel's worker on its own task queue, behind the channel's profiles if it has any.
 * An empty value counts as unset, so `${NAME:-}` leaves Herald's default in force.
 */
export function renderChannelWorkers(): string {
  const services = CHANNELS.map((channel) => {
    const profiles = CHANNEL_DEFINITIONS[channel].composeProfiles;
    return [
      ...(profiles
        ? [
            `  # Needs its provider's settings (docs/configuration.md); started with the profile ${profiles[0]}.`,
          ]
        : []),
      `  worker-${channel}:`,
      '    <<: *worker',
      ...(profiles ? [`    profiles: [${profiles.map((p) => `'${p}'`).join(', ')}]`] : []),
      '    environment:',
      '      <<: *worker-env',
      `      HERALD_QUEUES: ${channel}`,
      ...workerEnvironment(channel).map((name) => `      ${name}: \${${name}:-}`),
    ].join('\n');
  });
  return [BEGIN, services.join('\n\n'), END].join('\n');
}

/** The compose file with its block of channel workers as the registry makes it. */
export function withChannelWorkers(compose: string): string {
  const begin = compose.indexOf(BEGIN);
  const end = compose.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${COMPOSE_FILE} lacks the channel workers' marker lines`);
  return compose.slice(0, begin) + renderChannelWorkers() + compose.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(COMPOSE_FILE, withChannelWorkers(readFileSync(COMPOSE_FILE, 'utf8')));
  console.log(`wrote the channel workers of ${path.relative(projectRoot, COMPOSE_FILE)}`);
}
