import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.js';

/** A Temporal client for the API, the bot and the tests. */
export async function connectTemporalClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
