// What PUT /v1/flows/:key accepts (docs/flows.md): the steps, checked as a whole so that a 422 lists every
// problem with its JSON path. Templates are checked against the database in src/domain/flows.ts.
import { z } from 'zod';
import { CHANNELS } from '../activities/channels/registry.js';
import {
  DURATION_PATTERN,
  ENGAGEMENTS,
  durationMs,
  type Condition,
  type Step,
} from '../workflows/flows/steps.js';

/** Branches inside branches: deeper than this is a program, not a notification flow. */
export const MAX_FLOW_DEPTH = 4;
/** Steps in a flow, counted through every branch. */
export const MAX_FLOW_STEPS = 50;
/** The longest delay, wait, digest or throttle window. */
const MAX_DURATION_MS = 366 * 86_400_000;
/** Items one digest collects at most, whatever its `max`. */
export const MAX_DIGEST_ITEMS = 1000;

export const flowKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, {
  message: 'must be a lowercase key such as comment-digest',
});

const duration = z
  .string()
  .regex(DURATION_PATTERN, { message: 'must be a duration such as 500ms, 30s, 5m, 2h or 1d' })
  .refine((d) => (durationMs(d) ?? 0) > 0 && (durationMs(d) ?? 0) <= MAX_DURATION_MS, {
    message: 'must be more than 0 and at most 366d',
  });
const dataField = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, {
  message: 'must name a field of data, such as project or project.id',
});
const templateKey = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, { message: 'must be a template key' });
const scalar = z.union([z.string().max(500), z.number(), z.boolean(), z.null()]);

const testFields = {
  equals: scalar.optional(),
  notEquals: scalar.optional(),
  in: z.array(scalar).min(1).max(100).optional(),
  exists: z.boolean().optional(),
  startsWith: z.string().max(100).optional(),
  includes: z.string().max(100).optional(),
  gt: z.number().optional(),
  lt: z.number().optional(),
};
const oneTest = (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
  const tests = Object.keys(testFields).filter((t) => value[t] !== undefined);
  if (tests.length !== 1)
    ctx.addIssue({
      code: 'custom',
      message: `give exactly one test of ${Object.keys(testFields).join(', ')}`,
    });
};

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ data: dataField, ...testFields }).superRefine(oneTest),
    z.strictObject({ user: z.enum(['locale', 'timezone', 'contacts']), ...testFields }).superRefine(oneTest),
    z.strictObject({ previous: z.literal(true), ...testFields }).superRefine(oneTest),
    z.strictObject({ all: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ any: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ not: conditionSchema }),
  ]),
) as z.ZodType<Condition>;

const content = {
  title: z.string().min(1).max(200).optional(),
  body: z.string().min(1).max(10_000).optional(),
  template: templateKey.optional(),
};
function contentPairs(value: { title?: string; body?: string; template?: string }, ctx: z.RefinementCtx) {
  if (value.template && (value.title !== undefined || value.body !== undefined))
    ctx.addIssue({ code: 'custom', path: ['template'], message: 'give either template or title and body' });
  else if ((value.title === undefined) !== (value.body === undefined))
    ctx.addIssue({ code: 'custom', path: ['title'], message: 'title and body go together' });
}

const sendStep = z
  .strictObject({
    type: z.literal('send'),
    channels: z
      .array(z.enum(CHANNELS))
      .min(1)
      .max(CHANNELS.length)
      .refine((c) => new Set(c).size === c.length, { message: 'must not repeat a channel' })
      .optional(),
    fallback: z.boolean().optional(),
    ack: z.boolean().optional(),
    ...content,
  })
  .superRefine(contentPairs);
const delayStep = z.union([
  z.strictObject({ type: z.literal('delay'), duration }),
  z.strictObject({ type: z.literal('delay'), until: dataField }),
]);
const waitStep = z.strictObject({
  type: z.literal('wait'),
  until: z.enum(ENGAGEMENTS),
  timeout: duration,
  then: z.enum(['stop', 'continue']).optional(),
});
const digestStep = z.strictObject({
  type: z.literal('digest'),
  window: duration,
  key: dataField.optional(),
  max: z.int().min(1).max(MAX_DIGEST_ITEMS).optional(),
});
const throttleStep = z.strictObject({
  type: z.literal('throttle'),
  limit: z.int().min(1).max(100_000),
  window: duration,
  key: dataField.optional(),
});
const STEP_TYPES = ['send', 'delay', 'wait', 'digest', 'throttle', 'branch'] as const;

export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z
    .looseObject({ type: z.enum(STEP_TYPES, { message: `must be one of ${STEP_TYPES.join(', ')}` }) })
    .pipe(
      z.discriminatedUnion('type', [
        sendStep,
        z.strictObject({
          type: z.literal('delay'),
          duration: duration.optional(),
          until: dataField.optional(),
        }),
        waitStep,
        digestStep,
        throttleStep,
        z.strictObject({
          type: z.literal('branch'),
          branches: z
            .array(z.strictObject({ if: conditionSchema, steps: z.array(stepSchema).min(1) }))
            .min(1)
            .max(20),
          otherwise: z.array(stepSchema).min(1).optional(),
        }),
      ]),
    )
    .superRefine((step, ctx) => {
      if (step.type === 'delay' && !delayStep.safeParse(step).success)
        ctx.addIssue({ code: 'custom', message: 'give either duration or until (a field of data)' });
    }),
) as z.ZodType<Step>;

export const putFlowSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    steps: z.array(stepSchema).min(1).max(MAX_FLOW_STEPS),
  })
  .superRefine((flow, ctx) => {
    for (const issue of structuralProblems(flow.steps)) ctx.addIssue({ code: 'custom', ...issue });
  });
export type PutFlow = z.infer<typeof putFlowSchema>;

type Located = { path: (string | number)[]; message: string };
type Placed = { step: Step; path: (string | number)[] };

/**
 * What one step cannot say alone: nesting depth, the number of steps, where a digest may stand, and
 * channels sent on twice along one path (a notification has one delivery per channel).
 */
export function structuralProblems(steps: readonly Step[]): Located[] {
  const problems: Located[] = [];
  let count = 0;
  const visit = (list: readonly Step[], path: (string | number)[], depth: number) => {
    list.forEach((step, i) => {
      count += 1;
      const here = [...path, i];
      if (step.type === 'digest' && depth > 0)
        problems.push({ path: here, message: 'a digest must be a top-level step, not inside a branch' });
      if (step.type !== 'branch') return;
      if (depth + 1 > MAX_FLOW_DEPTH) {
        problems.push({ path: here, message: `branches nest at most ${MAX_FLOW_DEPTH} deep` });
        return;
      }
      step.branches.forEach((b, j) => visit(b.steps, [...here, 'branches', j, 'steps'], depth + 1));
      if (step.otherwise) visit(step.otherwise, [...here, 'otherwise'], depth + 1);
    });
  };
  visit(steps, ['steps'], 0);
  if (count > MAX_FLOW_STEPS)
    problems.push({
      path: ['steps'],
      message: `a flow has at most ${MAX_FLOW_STEPS} steps in all (${count})`,
    });
  const digests = steps.filter((s) => s.type === 'digest').length;
  if (digests > 1) problems.push({ path: ['steps'], message: 'a flow has at most one digest step' });
  if (problems.length > 0) return problems;

  const seen = new Set<string>();
  const walk = (rest: readonly Placed[], used: Map<string, string>) => {
    for (let i = 0; i < rest.length; i++) {
      const { step, path } = rest[i]!;
      // A digest notification is a new notification: its deliveries start afresh.
      if (step.type === 'digest') used = new Map();
      if (step.type === 'send') {
        for (const channel of step.channels ?? []) {
          const earlier = used.get(channel);
          const key = [...path, 'channels'].join('.');
          if (earlier && !seen.has(`${key}:${channel}`)) {
            seen.add(`${key}:${channel}`);
            problems.push({
              path: [...path, 'channels'],
              message:
                `${channel} is already sent on by ${earlier} along this path: a notification has one ` +
                'delivery per channel (deliveries are unique per notification and channel)',
            });
          }
          used.set(channel, path.join('.'));
        }
      }
      if (step.type === 'branch') {
        const after = rest.slice(i + 1);
        const place = (list: readonly Step[], at: (string | number)[]) =>
          list.map((s, j) => ({ step: s, path: [...at, j] }));
        step.branches.forEach((b, j) =>
          walk([...place(b.steps, [...path, 'branches', j, 'steps']), ...after], new Map(used)),
        );
        walk([...place(step.otherwise ?? [], [...path, 'otherwise']), ...after], new Map(used));
        return;
      }
    }
  };
  walk(
    steps.map((step, i) => ({ step, path: ['steps', i] })),
    new Map(),
  );
  return problems;
}

/** Every template key a flow's steps name, with where. */
export function templatesOf(steps: readonly Step[], path: (string | number)[] = ['steps']): Placed[] {
  return steps.flatMap((step, i): Placed[] => {
    const here = [...path, i];
    if (step.type === 'send' && step.template) return [{ step, path: [...here, 'template'] }];
    if (step.type !== 'branch') return [];
    return [
      ...step.branches.flatMap((b, j) => templatesOf(b.steps, [...here, 'branches', j, 'steps'])),
      ...(step.otherwise ? templatesOf(step.otherwise, [...here, 'otherwise']) : []),
    ];
  });
}

/** Whether a send step before any digest lacks content of its own (the notification must bring it). */
export function sendsWithoutContent(steps: readonly Step[], from = 0): boolean {
  const check = (list: readonly Step[]): boolean => {
    for (const step of list) {
      if (step.type === 'digest') return false;
      if (step.type === 'send' && !step.template && step.title === undefined) return true;
      if (step.type === 'branch' && [...step.branches.map((b) => b.steps), step.otherwise ?? []].some(check))
        return true;
    }
    return false;
  };
  return check(steps.slice(from));
}

export const cancelByKeySchema = z.strictObject({
  cancellationKey: z.string().trim().min(1).max(200),
  reason: z.string().trim().min(1).max(500).optional(),
});
