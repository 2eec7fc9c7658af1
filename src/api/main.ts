// HTTP API process.
import { loadConfigOrExit } from '../lib/config.js';
import { createDb } from '../lib/db.js';
import { createLogger } from '../lib/logger.js';
import { connectTemporalClient } from '../lib/temporal.js';
import { createApp } from './app.js';

const config = loadConfigOrExit();
const logger = createLogger('api', config.logLevel);
const db = createDb(config.databaseUrl);
const temporal = await connectTemporalClient(config);
const app = createApp({
  db,
  temporal,
  logger,
  apiKeys: config.apiKeys,
  vapidPublicKey: config.vapid.publicKey,
  rateLimit: config.api.rateLimit,
});

const server = app.listen(config.port, () => {
  logger.info({ port: config.port }, `API listening on http://127.0.0.1:${config.port}`);
});

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, 'draining in-flight requests');
  server.close();
  server.closeIdleConnections();
  await new Promise((resolve) => server.once('close', resolve));
  await temporal.connection.close();
  await db.$disconnect();
  logger.info('API stopped');
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
