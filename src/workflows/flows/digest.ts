// One digest: a window of one user's notifications of one flow version (and key), closed after its
// window or at `max` items into one digest notification that runs the steps after the digest step.
// Notifications join through signal-with-start on an id derived from (user, flow, version, key), so
// however many arrive at once there is one workflow, hence one digest, per window.
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { FlowActivities } from '../../activities/flows.js';
import { SEARCH_ATTRIBUTES, type FlowRef } from '../definitions.js';
import { digestWindowEnd } from './digest-window.js';
import type { DigestStep } from './steps.js';

/** Items one digest holds at most, whatever its `max` (as PUT /v1/flows checks). */
const MAX_ITEMS = 1000;
/** History events before the run continues as new with its items and window (Temporal warns at 10k). */
const HISTORY_LIMIT = 4000;

export interface DigestInput {
  userId: string;
  category: string;
  flow: FlowRef & { startStep: number };
  step: DigestStep;
  /** Carried over by continue-as-new: items waiting, and the open window's end (epoch ms). */
  items?: string[];
  windowEnd?: number;
  /** Events before continuing as new; tests lower it. */
  historyLimit?: number;
}

export interface DigestItemSignal {
  notificationId: string;
}
export const digestItemSignal = defineSignal<[DigestItemSignal]>('digestItem');
/**
 * Items a cancellation key withdrew (src/domain/cancellation.ts): they leave the open window, so they no
 * longer count toward `max`. The database already keeps them out of the digest notification; this keeps
 * the count right, and a window left with no item sends nothing.
 */
export interface DigestWithdrawSignal {
  notificationIds: string[];
}
export const digestWithdrawSignal = defineSignal<[DigestWithdrawSignal]>('digestWithdraw');
export const digestStatusQuery = defineQuery<{ items: number; windowEnd?: string }>('digestStatus');

const { closeDigest } = proxyLocalActivities<Pick<FlowActivities, 'closeDigest'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function digestWorkflow(input: DigestInput): Promise<void> {
  const cap = Math.min(input.step.max ?? MAX_ITEMS, MAX_ITEMS);
  const items: string[] = [...(input.items ?? [])];
  // Items beyond this window's cap start the next one.
  const overflow: string[] = [];
  const seen = new Set(items);
  let windowEnd = input.windowEnd;
  setHandler(digestItemSignal, ({ notificationId }) => {
    if (seen.has(notificationId)) return;
    seen.add(notificationId);
    (items.length < cap ? items : overflow).push(notificationId);
  });
  // Changes no command by itself; histories recorded before it carry no such signal.
  setHandler(digestWithdrawSignal, ({ notificationIds }) => {
    const withdrawn = new Set(notificationIds);
    // An item withdrawn before its own join signal arrives must not join afterwards.
    for (const id of withdrawn) seen.add(id);
    for (const list of [items, overflow])
      for (let i = list.length - 1; i >= 0; i--) if (withdrawn.has(list[i]!)) list.splice(i, 1);
    while (items.length < cap && overflow.length > 0) items.push(overflow.shift()!);
  });
  setHandler(digestStatusQuery, () => ({
    items: items.length + overflow.length,
    windowEnd: windowEnd === undefined ? undefined : new Date(windowEnd).toISOString(),
  }));
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.UserId, value: input.userId },
    { key: SEARCH_ATTRIBUTES.FlowStep, value: `${input.flow.startStep - 1} digest` },
  ]);

  await condition(() => items.length > 0);
  windowEnd ??= await digestWindowEnd({
    step: input.step,
    userId: input.userId,
    category: input.category,
    openedAt: Date.now(),
  });
  const historyLimit = input.historyLimit ?? HISTORY_LIMIT;
  const tooLong = () => workflowInfo().historyLength > historyLimit || workflowInfo().continueAsNewSuggested;
  for (;;) {
    const left = windowEnd - Date.now();
    const woke = left > 0 && (await condition(() => items.length >= cap || tooLong(), left));
    if (!woke || items.length >= cap) break;
    // Signals that arrive while this run ends make the server refuse the continue-as-new: none is lost.
    await continueAsNew<typeof digestWorkflow>({ ...input, items: [...items, ...overflow], windowEnd });
  }

  const closing = items.splice(0);
  // Every item withdrawn while the window was open: nothing to send. (Never empty in histories recorded
  // before withdrawals reached the workflow: items were only ever added.)
  if (closing.length > 0)
    await closeDigest({
      digestId: uuid4(),
      digestWorkflowId: workflowInfo().workflowId,
      items: closing,
      userId: input.userId,
      flow: input.flow,
    });
  // Items that came while the window closed open the next one. A signal that arrives as this run
  // completes fails the completion, and the run replays with it: the next window gets it.
  const next = [...overflow, ...items];
  if (next.length > 0)
    await continueAsNew<typeof digestWorkflow>({ ...input, items: next, windowEnd: undefined });
}
