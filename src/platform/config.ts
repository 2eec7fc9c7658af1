// Herald's configuration: environment variables, each defined once (src/platform/config/ for the core,
// src/activities/channels/<channel>/config.ts for each channel), read and validated into one Config.
// docs/configuration.md is generated from the same definitions: `npm run docs:config`.
import { readConfigSlices, ConfigError } from './config/define.js';
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
import { emailConfig, type EmailConfig } from '../activities/channels/email/config.js';
import { smsConfig, type SmsConfig } from '../activities/channels/sms/config.js';
import { pushConfig, type PushConfig } from '../activities/channels/push/config.js';
import { telegramConfig, type TelegramConfig } from '../activities/channels/telegram/config.js';

export { ConfigError, type ConfigProblem } from './config/define.js';
export { parseDuration } from './config/parsers.js';
export type { DeliveryRetrySettings } from './config/delivery.js';
export type { CodecKey } from './config/payload-encryption.js';
export type { LogLevel } from './config/services.js';

/** Each channel's own variables, in the order of the reference. */
export const CHANNEL_CONFIG_SLICES = [emailConfig, smsConfig, pushConfig, telegramConfig] as const;

/** Every group of variables: the core's, then each channel's. */
export const CONFIG_SLICES = [
  servicesConfig,
  apiConfig,
  workerConfig,
  deliveryConfig,
  webhooksConfig,
  preferencesConfig,
  payloadEncryptionConfig,
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
    CodecConfig,
    EmailConfig,
    SmsConfig,
    PushConfig,
    TelegramConfig {}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return readConfigSlices(CONFIG_SLICES, env);
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
