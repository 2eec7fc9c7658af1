// The in-app channel: a delivery stores the message in the user's inbox in PostgreSQL, and is sent once
// stored. Every user has an inbox, so every user has an address here; browsers read it through /inbox/v1.
import type { Db } from '../../../store/db.js';
import { storeInboxMessage } from '../../../store/inbox.js';
import {
  PermanentChannelError,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
} from '../channel.js';
import { inAppConfig } from './config.js';
import { inboxContent } from './content.js';

/** Storing fails only on a database error (transient) or content it cannot show (permanent). */
export function classifyInAppError(error: unknown): FailureClass {
  const reason = error instanceof Error ? error.message : String(error);
  return { permanent: error instanceof PermanentChannelError, reason };
}

export function createInAppChannel(db: Db): ChannelProvider {
  return {
    channel: 'in_app',
    async send(recipient, message) {
      const stored = await storeInboxMessage(db, recipient.id, message.notificationId, inboxContent(message));
      return { providerMessageId: stored.id };
    },
    classify: classifyInAppError,
    // The worker's Prisma client is its own to close.
    async close() {},
  };
}

export const inAppChannel: ChannelDefinition = {
  channel: 'in_app',
  label: 'In-app inbox',
  implicitAddress: 'in your inbox in the app',
  config: inAppConfig,
  composeProfiles: ['inbox'],
  // Storing needs only the database: its worker holds none of the inbox's settings (the API signs tokens).
  workerEnvironment: [],
  hasAddress: () => true,
  // On where the process can sign tokens for it, or where the deployment says it delivers in-app (a
  // worker without INBOX_SECRET, as docker-compose.yml's).
  isConfigured: (config) =>
    Boolean(config.inbox.secret) || Boolean(config.delivery.channels?.includes('in_app')),
  create: (_config, { db }) => createInAppChannel(db),
};
