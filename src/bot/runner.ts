// How updates reach the bot. Long polling (getUpdates) in development; in webhook mode Telegram POSTs
// them to the API (/telegram/webhook), which keeps them in telegram_updates for this process to handle.
import type { Bot, Update } from 'node-telegram-bot-api';
import { Prisma } from '../store/db.js';
import { COMMANDS } from './commands.js';
import { ALLOWED_UPDATES, createHeraldBot, errorSummary } from './create-bot.js';
import { createBotChannelProviders } from './channel-providers.js';
import type { BotDeps, RunningBotDeps } from './turn.js';

export interface RunningBot {
  bot: Bot;
  mode: 'polling' | 'webhook';
  /** Settles when the bot stops; rejects when it cannot go on (a rejected token). */
  done: Promise<void>;
  /** Finishes the update in hand, then stops, closing the channels its verification codes went through. */
  stop(): Promise<void>;
}

export interface RunOptions {
  /** Long-poll seconds per getUpdates. */
  pollTimeoutS?: number;
  /** Webhook mode: how often the inbox is checked when it was empty. */
  inboxIntervalMs?: number;
}

export async function startBot(deps: BotDeps, options: RunOptions = {}): Promise<RunningBot> {
  const { config, logger, db } = deps;
  // Made on first use: a bot that sends no code opens no connection.
  const channelProviders = createBotChannelProviders(config, { db, logger });
  const running: RunningBotDeps = { ...deps, channelProviders };
  const bot = createHeraldBot(running);
  await bot.api
    .setMyCommands({
      commands: Object.entries(COMMANDS).map(([command, spec]) => ({
        command,
        description: spec.description.slice(0, 256),
      })),
    })
    .catch((error: unknown) =>
      logger.warn({ err: errorSummary(error) }, 'could not register the command list'),
    );

  const { webhookUrl, webhookSecret } = config.telegram;
  if (webhookUrl && webhookSecret) {
    await bot.api.setWebhook({
      url: webhookUrl,
      secret_token: webhookSecret,
      allowed_updates: ALLOWED_UPDATES,
    });
    logger.info('webhook registered; handling the updates the API receives');
    const inbox = consumeInbox(bot, running, options.inboxIntervalMs ?? 250);
    return {
      bot,
      mode: 'webhook',
      done: inbox.done,
      async stop() {
        await inbox.stop();
        await channelProviders.close();
      },
    };
  }
  // Telegram refuses getUpdates while a webhook is set: polling means no webhook.
  await bot.api.deleteWebhook({ drop_pending_updates: false });
  const done = bot.startPolling(undefined, {
    timeout: options.pollTimeoutS ?? 30,
    allowedUpdates: ALLOWED_UPDATES,
    onError: (error) => logger.warn({ err: errorSummary(error) }, 'getUpdates failed; polling again'),
  });
  logger.info('long polling for updates');
  return {
    bot,
    mode: 'polling',
    done,
    async stop() {
      bot.stop();
      await done.catch(() => undefined);
      await channelProviders.close();
    },
  };
}

/** Telegram stops redelivering an update well within a day; until then its id turns repeats away. */
const KEEP_HANDLED_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Handles the webhook's updates in update_id order and marks each handled, dropping its payload. A
 * crash in between handles that update again on restart: at least once, like Telegram's own delivery.
 */
function consumeInbox(bot: Bot, deps: RunningBotDeps, intervalMs: number) {
  const { db, logger } = deps;
  const controller = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  let prunedAt = 0;
  const loop = async () => {
    while (!controller.signal.aborted) {
      try {
        const batch = await db.telegramUpdate.findMany({
          where: { handledAt: null },
          orderBy: { updateId: 'asc' },
          take: 20,
        });
        for (const row of batch) {
          if (controller.signal.aborted) return;
          await bot.handleUpdate(row.payload as unknown as Update);
          await db.telegramUpdate.update({
            where: { updateId: row.updateId },
            data: { handledAt: new Date(), payload: Prisma.DbNull },
          });
        }
        if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
          prunedAt = Date.now();
          await db.telegramUpdate.deleteMany({
            where: { handledAt: { lt: new Date(prunedAt - KEEP_HANDLED_MS) } },
          });
        }
        if (batch.length === 0) await pause(intervalMs);
      } catch (error) {
        logger.error({ err: errorSummary(error) }, 'reading the webhook inbox failed; trying again');
        await pause(Math.max(intervalMs, 1000));
      }
    }
  };
  const done = loop();
  return {
    done,
    async stop() {
      controller.abort();
      await done;
    },
  };
}
