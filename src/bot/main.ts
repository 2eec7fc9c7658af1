// Telegram bot process: long polling, or the webhook inbox when TELEGRAM_WEBHOOK_URL is set.
import { loadConfigOrExit, logStartupWarnings } from '../platform/config.js';
import { createDb } from '../store/db.js';
import { createLogger } from '../platform/logger.js';
import { startTelemetry } from '../platform/telemetry.js';
import { connectTemporalClient } from '../platform/temporal-client.js';
import { errorSummary } from './create-bot.js';
import { startBot } from './runner.js';

const config = loadConfigOrExit();
if (!config.telegram.token) {
  console.error('TELEGRAM_BOT_TOKEN: is required to run the bot');
  process.exit(78); // EX_CONFIG
}
// Before the Temporal client: a /send's trace goes on into its workflow.
const telemetry = startTelemetry('herald-bot');
const logger = createLogger('bot', config.logLevel);
logStartupWarnings(config, logger);
const db = createDb(config.databaseUrl, { max: 4 });
const temporal = await connectTemporalClient(config);
const running = await startBot({ db, temporal, logger, config }).catch(async (error: unknown) => {
  // A rejected token or an unreachable Telegram at start: say so and let the supervisor retry later.
  logger.fatal(
    { err: errorSummary(error), reason: String((error as Error)?.message) },
    'the bot cannot start',
  );
  await temporal.connection.close();
  await db.$disconnect();
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping the bot');
  await running.stop();
  await temporal.connection.close();
  await db.$disconnect();
  await telemetry.shutdown();
  logger.info('bot stopped');
  process.exit(code);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

running.done.then(
  () => void shutdown('updates ended'),
  (error: unknown) => {
    // A rejected token (401) or a webhook still set elsewhere (409) will not mend by retrying.
    logger.fatal(
      { err: errorSummary(error), reason: String((error as Error)?.message) },
      'the bot cannot go on',
    );
    void shutdown('fatal error', 1);
  },
);
