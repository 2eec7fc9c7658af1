// Workflow completions as Temporal's visibility records them: the same instrument for Herald's
// notifications and the floor's bare workflows, found by their Category search attribute.
import type { Client } from '@temporalio/client';

export async function countClosed(client: Client, category: string): Promise<number> {
  const { count } = await client.workflow.count(`Category="${category}" AND ExecutionStatus!="Running"`);
  return count;
}

export interface Closed {
  /** Start to close of each workflow, in milliseconds (the server's clock). */
  durationsMs: number[];
  /** Epoch milliseconds of the last close. */
  lastCloseAt: number;
  /** How the workflows ended, by status name (all COMPLETED when nothing failed). */
  statuses: Record<string, number>;
}

export async function closedWorkflows(client: Client, category: string): Promise<Closed> {
  const durationsMs: number[] = [];
  const statuses: Record<string, number> = {};
  let lastCloseAt = 0;
  for await (const workflow of client.workflow.list({ query: `Category="${category}"` })) {
    statuses[workflow.status.name] = (statuses[workflow.status.name] ?? 0) + 1;
    if (!workflow.closeTime) continue;
    durationsMs.push(workflow.closeTime.getTime() - workflow.startTime.getTime());
    lastCloseAt = Math.max(lastCloseAt, workflow.closeTime.getTime());
  }
  return { durationsMs, lastCloseAt, statuses };
}

/** Polls until `expected` workflows of the category have closed; `onCount` sees each count. */
export async function untilClosed(
  client: Client,
  category: string,
  expected: number,
  onCount: (n: number) => void,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await countClosed(client, category);
    onCount(n);
    if (n >= expected) return;
    if (Date.now() > deadline) throw new Error(`${category}: only ${n}/${expected} workflows closed in time`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
