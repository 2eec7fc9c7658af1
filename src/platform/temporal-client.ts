import { Client, Connection } from '@temporalio/client';
import { heraldDataConverter } from './codec.js';
import type { Config } from './config.js';
import { temporalClientInterceptors } from './telemetry.js';

/**
 * A Temporal client for the API, the bot and the tests; it encrypts payloads when CODEC_KEYS is set and
 * carries the trace context into the workflows it starts.
 */
export async function connectTemporalClient(config: Pick<Config, 'temporal' | 'codec'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: heraldDataConverter(config.codec),
    // Tracing: the request's span goes on into the workflow (a no-op while tracing is off).
    interceptors: { workflow: temporalClientInterceptors() },
  });
}
