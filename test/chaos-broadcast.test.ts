// The crash test of issue 19: a broadcast while the worker is SIGKILLed twice and the Temporal server
// restarted once; every subscriber gets exactly one email (a second only where the worker died mid-send,
// as the chaos suite judges). Real processes of its own (chaos/stack.ts). `npm test` runs it with 600
// subscribers (two fan-out batches, so a kill can land mid fan-out) to stay within CI's time; the issue's
// 5,000 is `BROADCAST_CHAOS_SUBSCRIBERS=5000 npx tsx test/run.ts test/chaos-broadcast.test.ts` (about
// 20 minutes on two shared cores).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBroadcastChaos } from '../chaos/broadcast.js';

test(
  'a broadcast survives two worker SIGKILLs and a Temporal restart: one email per subscriber',
  { timeout: 1_200_000 },
  async () => {
    const lines: string[] = [];
    const result = await runBroadcastChaos({
      subscribers: Number(process.env.BROADCAST_CHAOS_SUBSCRIBERS ?? 600),
      settleTimeoutMs: 900_000,
      log: (line) => lines.push(`${new Date().toISOString().slice(11, 19)} ${line}`),
    });
    const context = `${JSON.stringify({ ...result, missing: result.missing.slice(0, 20) })}\n${lines.join('\n')}`;
    assert.equal(result.faults.length, 3, context);
    assert.equal(result.recorded, result.subscribers, context);
    assert.deepEqual(result.finalStates, { sent: result.subscribers }, context);
    assert.deepEqual(result.missing, [], context);
    assert.equal(result.unexplainedDuplicates, 0, context);
    assert.ok(result.workerStarts >= 3, context);
    console.log(context);
  },
);
