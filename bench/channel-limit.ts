// The channel limit, run as its own process like a worker: Herald's email provider (nodemailer's pool,
// as src/activities/channels/email.ts configures it) sending straight to the SMTP sink, no Temporal,
// no database. Prints one JSON line: { sent, ms }.
//   node --import tsx bench/channel-limit.ts <smtp-url> <count> <concurrency>
import { createEmailChannel } from '../src/activities/channels/email/index.js';
import type { Recipient } from '../src/activities/channels/registry.js';
import { runConcurrent } from './load.js';

const [url, count, concurrency] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const email = createEmailChannel({ url, from: 'Herald <herald@bench.test>' });
const recipient = (i: number): Recipient => ({
  id: `limit-${i}`,
  contacts: { email: `u${i}@bench.test` },
  locale: 'en',
  linkVersion: 0,
  pushSubscriptions: [],
});
const message = (i: number) => ({
  notificationId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  category: 'bench-limit',
  title: `Benchmark ${i}`,
  body: 'Your benchmark notification, on email, push and Telegram.',
  data: {},
});

await email.send(recipient(0), message(0)); // the pool's first connection, outside the timing
const started = performance.now();
await runConcurrent(
  count,
  concurrency,
  async (i) => {
    await email.send(recipient(i), message(i));
  },
  1,
);
console.log(JSON.stringify({ sent: count, ms: performance.now() - started }));
await email.close();
