// The in-app inbox under many open streams: 1,000 users each hold an event stream on one API process
// (GET /inbox/v1/stream), then notifications to them are sent through POST /v1/notifications at a steady
// pace (below what the stack sustains, so the figure is latency, not a backlog). Measured: the time from
// the API's 202 to the `message` event at the client (each stream in this process, one clock), whether
// every event came exactly once, and the API's resident memory per open stream.
import { openInboxStream, type InboxStreamClient } from '../../tools/clients/inbox-stream.js';
import { freePort } from '../../tools/local-stack/ports.js';
import { residentBytes } from '../../tools/local-stack/processes.js';
import { startHeraldProcesses } from '../herald.js';
import { ConflictProblem } from '@herald/client';
import { benchClient, runConcurrent, sleep, summarize, type LatencySummary } from '../load.js';
import { log } from '../progress.js';
import { BENCH_API_KEY, type BenchStack } from '../stack.js';

export interface InboxPartResult {
  streams: number;
  notifications: number;
  ratePerSecond: number;
  /** The API's 202 to the `message` event at the client. */
  latency: LatencySummary;
  /** Notifications whose event never came, or came more than once. */
  missing: number;
  duplicates: number;
  /** Opening every stream, from the first request to the last initial `counts` event. */
  openMs: number;
  /**
   * The API process with no stream open and with all of them: its V8 heap in use and its resident set,
   * and the heap's growth per stream (the resident set barely moves: the heap had grown while seeding).
   */
  memory: {
    heapUsedMiB: [before: number, withStreams: number];
    residentMiB: [before: number, withStreams: number];
    heapPerStreamKiB: number;
  };
}

export interface InboxPartOptions {
  streams: number;
  notifications: number;
  ratePerSecond: number;
}

const INBOX_SECRET = 'bench-inbox-secret-0123456789abcdefghijklmnop';
const SETUP_CONCURRENCY = 16;
const OPEN_CONCURRENCY = 50;

/**
 * The API's memory once it has settled: the lowest of a few samples a second apart, so garbage not yet
 * collected weighs as little as it can. The heap from the API's own metrics listener.
 */
async function settledMemory(
  pid: number,
  metricsUrl: string,
): Promise<{ heapUsed: number; resident: number }> {
  const heap: number[] = [];
  const resident: number[] = [];
  for (let i = 0; i < 8; i++) {
    await sleep(1000);
    const text = await (await fetch(metricsUrl)).text();
    heap.push(Number(/^herald_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN));
    resident.push(residentBytes(pid) ?? 0);
  }
  return { heapUsed: Math.min(...heap), resident: Math.min(...resident) };
}

export async function runInbox(stack: BenchStack, options: InboxPartOptions): Promise<InboxPartResult> {
  const metricsPort = await freePort();
  const herald = await startHeraldProcesses(stack, {
    label: 'inbox',
    workers: 1,
    api: true,
    env: { INBOX_SECRET, API_METRICS_PORT: String(metricsPort) },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const streams: InboxStreamClient[] = [];
  const http = benchClient(herald.apiUrl, BENCH_API_KEY);
  try {
    log(`inbox: ${options.streams} users and their inbox tokens`);
    const tokens: string[] = [];
    await runConcurrent(options.streams, SETUP_CONCURRENCY, async (i) => {
      // 409: there already, from an earlier run on the same database.
      await http.users.create({ externalId: `inbox-bench-${i}` }).catch((error: unknown) => {
        if (!(error instanceof ConflictProblem)) throw error;
      });
      const issued = await http.api.POST('/v1/users/{id}/inbox-token', {
        params: { path: { id: `inbox-bench-${i}` } },
      });
      if (!issued.data) throw new Error(`inbox-token: ${issued.response.status}`);
      tokens[i] = issued.data.token;
    });

    const apiPid = herald.api!.pid;
    const before = await settledMemory(apiPid, metricsUrl);
    log(`inbox: opening ${options.streams} streams`);
    /** When each notification's event arrived, by its title. */
    const arrivals = new Map<string, number[]>();
    const opened = performance.now();
    await runConcurrent(options.streams, OPEN_CONCURRENCY, async (i) => {
      const stream = await openInboxStream(herald.apiUrl, {
        token: tokens[i]!,
        onEvent(event) {
          if (event.event !== 'message') return;
          const title = (event.data as { title: string }).title;
          arrivals.set(title, [...(arrivals.get(title) ?? []), event.at]);
        },
      });
      if (stream.status !== 200) throw new Error(`stream ${i}: ${stream.status} ${stream.refusal}`);
      streams[i] = stream;
      await stream.next((e) => e.event === 'counts', { timeoutMs: 60_000 });
    });
    const openMs = Math.round(performance.now() - opened);
    const withStreams = await settledMemory(apiPid, metricsUrl);

    log(`inbox: ${options.notifications} notifications at ${options.ratePerSecond}/s to random open streams`);
    const accepted = new Map<string, number>();
    const gapMs = 1000 / options.ratePerSecond;
    const started = performance.now();
    const sends: Promise<void>[] = [];
    for (let k = 0; k < options.notifications; k++) {
      const wait = started + k * gapMs - performance.now();
      if (wait > 0) await sleep(wait);
      const title = `inbox-bench-${k}`;
      const user = Math.floor(Math.random() * options.streams);
      sends.push(
        http.notifications
          .send({
            userId: `inbox-bench-${user}`,
            category: 'bench',
            channels: ['in_app'],
            title,
            body: 'Measured from the 202 to the event at the client.',
          })
          .then(() => void accepted.set(title, performance.now())),
      );
    }
    await Promise.all(sends);
    // The last few are still on their way.
    const deadline = Date.now() + 60_000;
    while (arrivals.size < options.notifications && Date.now() < deadline) await sleep(200);

    const latencies: number[] = [];
    let missing = 0;
    let duplicates = 0;
    for (const [title, at] of accepted) {
      const seen = arrivals.get(title) ?? [];
      if (seen.length === 0) missing += 1;
      if (seen.length > 1) duplicates += 1;
      // An event may beat the 202 to this process (the worker stores it first): that counts as 0.
      if (seen.length > 0) latencies.push(Math.max(0, seen[0]! - at));
    }
    const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    const result: InboxPartResult = {
      streams: options.streams,
      notifications: options.notifications,
      ratePerSecond: options.ratePerSecond,
      latency: summarize(latencies),
      missing,
      duplicates,
      openMs,
      memory: {
        heapUsedMiB: [mib(before.heapUsed), mib(withStreams.heapUsed)],
        residentMiB: [mib(before.resident), mib(withStreams.resident)],
        heapPerStreamKiB:
          Math.round(((withStreams.heapUsed - before.heapUsed) / options.streams / 1024) * 10) / 10,
      },
    };
    log(
      `inbox: 202 to event p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
        `${result.memory.heapPerStreamKiB} KiB of heap per stream; missing ${missing}, duplicates ${duplicates}`,
    );
    return result;
  } finally {
    for (const stream of streams) stream?.close();
    await herald.stop();
  }
}
