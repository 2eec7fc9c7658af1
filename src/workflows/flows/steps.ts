// A flow's steps as data (docs/flows.md). Shared by the API's validation (src/domain/flow-schema.ts) and
// the interpreter: types and pure functions only, safe in workflow code.
import type { ChannelName } from '../definitions.js';

/** `500ms`, `30s`, `5m`, `2h`, `1d`. */
export type Duration = string;

export interface Content {
  title?: string;
  body?: string;
  template?: string;
}

export interface SendStep extends Content {
  type: 'send';
  /** Absent: the first usable channel in the user's order, falling back to the next ones. */
  channels?: ChannelName[];
  /** With `channels`: move on to the user's next channel when one fails for good (default false). */
  fallback?: boolean;
  /** Add an acknowledge action (Telegram button, signed email link, in-app and push action). */
  ack?: boolean;
}

export type DelayStep = { type: 'delay' } & ({ duration: Duration } | { until: string });

export const ENGAGEMENTS = ['acknowledged', 'read', 'clicked'] as const;
export type Engagement = (typeof ENGAGEMENTS)[number];

export interface WaitStep {
  type: 'wait';
  until: Engagement;
  timeout: Duration;
  /** What to do when it happened in time: end the flow (default) or go on with the next step. */
  then?: 'stop' | 'continue';
}

export interface DigestStep {
  type: 'digest';
  window: Duration;
  /** A field of `data`: one digest per value (absent: one per user and flow). */
  key?: string;
  max?: number;
}

export interface ThrottleStep {
  type: 'throttle';
  limit: number;
  window: Duration;
  key?: string;
}

export type Scalar = string | number | boolean | null;

/** A test on a value: `data.<field>`, `user.locale`, `user.timezone`, `user.contacts`, or the previous outcome. */
export interface Test {
  equals?: Scalar;
  notEquals?: Scalar;
  in?: Scalar[];
  exists?: boolean;
  startsWith?: string;
  /** For a list (user.contacts): it contains this value. */
  includes?: string;
  gt?: number;
  lt?: number;
}

export type Condition =
  | ({ data: string } & Test)
  | ({ user: 'locale' | 'timezone' | 'contacts' } & Test)
  | ({ previous: true } & Test)
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export interface BranchStep {
  type: 'branch';
  /** The first branch whose condition holds runs; none: `otherwise` (absent: nothing). */
  branches: { if: Condition; steps: Step[] }[];
  otherwise?: Step[];
}

export type Step = SendStep | DelayStep | WaitStep | DigestStep | ThrottleStep | BranchStep;
export type StepType = Step['type'];

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = /^(\d{1,9})(ms|s|m|h|d)$/;

/** Milliseconds of a duration; undefined when it is not one. */
export function durationMs(duration: string): number | undefined {
  const match = DURATION_PATTERN.exec(duration);
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

/** A dotted path into `data`: `project.id`. */
export function dataAt(data: Record<string, unknown>, path: string): unknown {
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** How a step ended, as `previous` conditions and the flow trace read it. */
export type StepOutcome =
  | 'sent'
  | 'partially_sent'
  | 'failed'
  | 'skipped'
  | 'waited'
  | 'acknowledged'
  | 'read'
  | 'clicked'
  | 'timed_out'
  | 'passed'
  | 'throttled'
  | 'digested'
  | 'branched'
  | 'no_branch';

export interface TraceEntry {
  path: string;
  type: StepType;
  outcome: StepOutcome;
  at: string;
  detail?: string;
}
