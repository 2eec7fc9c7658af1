// The flow interpreter: runs a notification's pinned flow version step by step inside its workflow
// (src/workflows/notification.ts), with each step visible in the status query and the FlowStep search
// attribute. docs/flows.md describes every step.
import {
  condition,
  patched,
  proxyLocalActivities,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NotificationActivities, RecipientPlan } from '../../activities/index.js';
import {
  SEARCH_ATTRIBUTES,
  type ChannelName,
  type FlowRef,
  type NotificationInput,
  type NotificationOutcome,
  type NotificationStatus,
  type WorkflowStatus,
} from '../definitions.js';
import { deliverAll, type Lane } from '../delivery-lanes.js';
import { broadcastCancelledFailure } from '../broadcast-definitions.js';
import { holds, type ConditionContext } from './conditions.js';
import { dataAt, durationMs, type Step, type StepOutcome, type TraceEntry } from './steps.js';

type FlowSteps = Pick<
  NotificationActivities,
  'loadFlow' | 'passThrottle' | 'joinDigest' | 'resolveRecipient' | 'recordProgress'
>;
const { loadFlow, passThrottle, joinDigest, resolveRecipient, recordProgress } =
  proxyLocalActivities<FlowSteps>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

/** What the notification workflow lends the interpreter. */
export interface FlowHost {
  input: NotificationInput & { flow: FlowRef };
  status: WorkflowStatus;
  /** What each step did, recorded with the outcome. */
  trace: TraceEntry[];
  /** The first send step's plan names the API key's webhooks. */
  setWebhookTargets(plan: RecipientPlan): void;
  /** The DeliveryStatus search attribute, with others. */
  show(value: NotificationStatus): void;
}

type Next = 'next' | 'stop';

export async function runFlow(host: FlowHost): Promise<NotificationOutcome> {
  const { input, status, trace } = host;
  const flow = input.flow;
  const start = await loadFlow({ notificationId: input.notificationId, userId: input.userId, flow });
  const used: ChannelName[] = [];
  const sends: NotificationOutcome[] = [];
  let previous: StepOutcome | undefined;
  let ending: 'digested' | 'skipped' | undefined;
  let webhooksSet = false;
  const context = (): ConditionContext => ({ data: start.data, user: start.user, previous });

  const record = (path: string, type: Step['type'], outcome: StepOutcome, detail?: string) => {
    previous = outcome;
    trace.push({ path, type, outcome, at: new Date().toISOString(), ...(detail ? { detail } : {}) });
  };
  // flowSteps in GET /v1/notifications/:id is written when the flow ends; before a delay or a wait, the
  // steps done so far are written too, so a flow resting there shows them. One local activity per rest,
  // only when a step ran since the last: plain notifications and quick flows pay nothing. Flows that ran
  // before this wrote nothing then, and replay so.
  let traceShown = 0;
  const showStepsSoFar = async () => {
    if (trace.length === traceShown || !patched('flow-steps-while-resting')) return;
    traceShown = trace.length;
    await recordProgress({ notificationId: input.notificationId, flowTrace: [...trace] });
  };
  const enterStep = (path: string, type: Step['type']) => {
    status.flowStep = { path, type };
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.FlowStep, value: `${path} ${type}` }]);
  };

  async function runSteps(steps: readonly Step[], prefix: string, from = 0): Promise<Next> {
    for (let i = from; i < steps.length; i++) {
      const path = prefix ? `${prefix}.${i}` : String(i);
      const step = steps[i]!;
      enterStep(path, step.type);
      if ((await runStep(step, path, i)) === 'stop') return 'stop';
    }
    return 'next';
  }

  async function runStep(step: Step, path: string, index: number): Promise<Next> {
    switch (step.type) {
      case 'send': {
        const outcome = await send(step);
        record(path, 'send', outcome);
        if (outcome !== 'skipped') sends.push(outcome);
        return 'next';
      }
      case 'delay': {
        status.state = 'waiting';
        let ms: number;
        if ('duration' in step) ms = durationMs(step.duration)!;
        else {
          const at = Date.parse(String(dataAt(start.data, step.until) ?? ''));
          if (Number.isNaN(at)) {
            record(path, 'delay', 'skipped', `data.${step.until} is not a time`);
            return 'next';
          }
          ms = at - Date.now();
        }
        if (ms > 0) {
          await showStepsSoFar();
          await sleep(ms);
        }
        record(path, 'delay', 'waited');
        return 'next';
      }
      case 'wait': {
        status.state = 'waiting';
        await showStepsSoFar();
        const happened = await condition(
          () => status.engagement?.[step.until] !== undefined,
          durationMs(step.timeout)!,
        );
        record(path, 'wait', happened ? step.until : 'timed_out');
        return happened && step.then !== 'continue' ? 'stop' : 'next';
      }
      case 'throttle': {
        const key = step.key === undefined ? '' : String(dataAt(start.data, step.key) ?? '');
        const passed = await passThrottle({
          notificationId: input.notificationId,
          throttleKey: `${input.userId}:${flow.key}:${path}:${key}`,
          limit: step.limit,
          windowMs: durationMs(step.window)!,
        });
        record(
          path,
          'throttle',
          passed ? 'passed' : 'throttled',
          passed ? undefined : `over ${step.limit} per ${step.window}`,
        );
        if (passed) return 'next';
        ending = 'skipped';
        return 'stop';
      }
      case 'digest': {
        const digestWorkflowId = await joinDigest({
          notificationId: input.notificationId,
          userId: input.userId,
          category: input.category,
          flow: { key: flow.key, version: flow.version },
          stepIndex: index,
          step,
          keyValue: step.key === undefined ? '' : String(dataAt(start.data, step.key) ?? ''),
        });
        record(path, 'digest', 'digested', digestWorkflowId);
        ending = 'digested';
        return 'stop';
      }
      case 'branch': {
        const ctx = context();
        const chosen = step.branches.findIndex((b) => holds(b.if, ctx));
        const steps = chosen >= 0 ? step.branches[chosen]!.steps : step.otherwise;
        record(
          path,
          'branch',
          steps ? 'branched' : 'no_branch',
          chosen >= 0 ? `branches.${chosen}` : 'otherwise',
        );
        if (!steps) return 'next';
        return runSteps(steps, chosen >= 0 ? `${path}.${chosen}` : `${path}.otherwise`);
      }
    }
  }

  async function send(
    step: Extract<Step, { type: 'send' }>,
  ): Promise<'sent' | 'partially_sent' | 'failed' | 'skipped'> {
    status.state = 'resolving';
    const plan = await resolveRecipient({
      ...input,
      channels: step.channels ?? [],
      // Without channels: the user's first usable channel, then the next ones.
      fallback: step.channels ? (step.fallback ?? false) : true,
      firstOnly: !step.channels,
      exclude: [...used],
      at: new Date().toISOString(),
    });
    if (!webhooksSet) {
      host.setWebhookTargets(plan);
      webhooksSet = true;
    }
    // Its broadcast was cancelled: the notification workflow ends it cancelled.
    if (plan.broadcastCancelled) throw broadcastCancelledFailure();
    for (const { channel, reason } of plan.skipped)
      status.channels[channel] ??= { state: 'skipped', error: reason };
    if (plan.planned.length === 0) return 'skipped';
    if (plan.deferUntil) {
      status.state = 'deferred';
      host.show('deferred');
      status.deferredUntil = plan.deferUntil;
      await sleep(Math.max(0, Date.parse(plan.deferUntil) - Date.now()));
      delete status.deferredUntil;
      await recordProgress({ notificationId: input.notificationId, status: 'processing' });
    }
    status.state = 'delivering';
    host.show('processing');
    const lanes: Lane[] = plan.planned.map((channel) => ({ tried: [channel], sent: false }));
    const content =
      step.template !== undefined || step.title !== undefined
        ? { title: step.title, body: step.body, template: step.template }
        : undefined;
    await deliverAll({
      notificationId: input.notificationId,
      lanes,
      fallbacks: [...plan.fallbacks],
      settings: plan.settings,
      status,
      ack: step.ack,
      content,
    });
    used.push(...lanes.flatMap((lane) => lane.tried));
    const sent = lanes.filter((lane) => lane.sent).length;
    return sent === lanes.length ? 'sent' : sent === 0 ? 'failed' : 'partially_sent';
  }

  await runSteps(start.steps, '', flow.startStep ?? 0);
  delete status.flowStep;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.FlowStep, value: 'done' }]);
  if (ending) return ending;
  if (sends.length === 0) return 'skipped';
  if (sends.every((s) => s === 'sent')) return 'sent';
  return sends.some((s) => s === 'sent' || s === 'partially_sent') ? 'partially_sent' : 'failed';
}
