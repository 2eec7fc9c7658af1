// Herald's configuration: environment variables, each defined once (src/platform/config/ for the core,
// src/activities/channels/<channel>/config.ts for each channel), read and validated into one Config.
// docs/configuration.md is generated from the same definitions: `npm run docs:config`.
import { readConfigSlices, ConfigError, type ConfigProblem } from './config/define.js';
import {
  servicesConfig,
  apiConfig,
  workerConfig,
  type ServicesConfig,
  type ApiConfig,
  type WorkerConfig,
} from './config/services.js';
import {
  deliveryConfig,
  webhooksConfig,
  preferencesConfig,
  type DeliveryConfig,
  type WebhooksConfig,
  type PreferencesConfig,
} from './config/delivery.js';
import { payloadEncryptionConfig, type CodecConfig } from './config/payload-encryption.js';
import { outboundConfig, type OutboundConfig } from './config/outbound.js';
import { historyConfig, type HistoryConfig } from './config/history.js';
import { priorityConfig, type PriorityConfig } from './config/priority.js';
import { CHANNEL_CONFIG_SLICES } from '../activities/channels/registry.js';

export { ConfigError, type ConfigProblem } from './config/define.js';
export { parseDuration } from './config/parsers.js';
export type { DeliveryRetrySettings } from './config/delivery.js';
export type { CodecKey } from './config/payload-encryption.js';
export type { LogLevel } from './config/services.js';

export { CHANNEL_CONFIG_SLICES };

/** Each channel's settings: its config.ts adds them here (declaration merging), read from its slice. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ChannelSettings {}

/** Every group of variables: the core's, then each channel's. */
export const CONFIG_SLICES = [
  servicesConfig,
  apiConfig,
  workerConfig,
  deliveryConfig,
  webhooksConfig,
  preferencesConfig,
  historyConfig,
  outboundConfig,
  payloadEncryptionConfig,
  priorityConfig,
  ...CHANNEL_CONFIG_SLICES,
] as const;

export interface Config
  extends
    ServicesConfig,
    ApiConfig,
    WorkerConfig,
    DeliveryConfig,
    WebhooksConfig,
    PreferencesConfig,
    HistoryConfig,
    OutboundConfig,
    CodecConfig,
    PriorityConfig,
    ChannelSettings {
  /** Weak production settings that do not stop start-up (empty outside production). */
  startupWarnings: ConfigProblem[];
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // The channels' part of the type comes from their config.ts files (ChannelSettings), not from the list.
  return readConfigSlices(CONFIG_SLICES, env) as Config;
}

/** For process entry points, once they have a logger: one line per weak production setting. */
export function logStartupWarnings(config: Config, logger: { warn(fields: object, message: string): void }) {
  for (const { variable, message } of config.startupWarnings)
    logger.warn({ variable }, `${variable} ${message}`);
}

/** For process entry points: print the problem and exit instead of a stack trace. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
