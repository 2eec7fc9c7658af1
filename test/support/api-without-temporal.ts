// The API as it is while Temporal is unreachable: it records notifications and cannot start anything,
// as after an outage or a crash between the two. Served on a free port beside the test's own stack.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Db } from '../../src/store/db.js';
import { freePort } from '../../tools/local-stack/ports.js';
import { TEST_API_KEY } from './stack.js';

export interface ApiWithoutTemporal {
  url: string;
  close(): Promise<void>;
}

export async function startApiWithoutTemporal(db: Db): Promise<ApiWithoutTemporal> {
  const deadTemporal = new Client({
    connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }),
  });
  const app = createApp({
    db,
    temporal: deadTemporal,
    logger: createLogger('test', 'silent'),
    apiKeys: [TEST_API_KEY],
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
