// A branch's conditions (docs/flows.md): on data, on the user as the flow found them, on the previous step.
import { dataAt, type Condition, type StepOutcome, type Test } from './steps.js';

export interface ConditionContext {
  data: Record<string, unknown>;
  user: { locale: string | null; timezone: string | null; contacts: string[] };
  previous?: StepOutcome;
}

export function holds(condition: Condition, ctx: ConditionContext): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, ctx));
  if ('any' in condition) return condition.any.some((c) => holds(c, ctx));
  if ('not' in condition) return !holds(condition.not, ctx);
  if ('data' in condition) return passes(dataAt(ctx.data, condition.data), condition);
  if ('user' in condition) return passes(ctx.user[condition.user], condition);
  return passes(ctx.previous, condition);
}

function passes(value: unknown, test: Test): boolean {
  if (test.exists !== undefined) return (value !== undefined && value !== null) === test.exists;
  if (test.equals !== undefined) return value === test.equals;
  if (test.notEquals !== undefined) return value !== test.notEquals;
  if (test.in !== undefined) return test.in.some((v) => v === value);
  if (test.startsWith !== undefined) return typeof value === 'string' && value.startsWith(test.startsWith);
  if (test.includes !== undefined)
    return Array.isArray(value)
      ? value.includes(test.includes)
      : typeof value === 'string' && value.includes(test.includes);
  if (test.gt !== undefined) return typeof value === 'number' && value > test.gt;
  if (test.lt !== undefined) return typeof value === 'number' && value < test.lt;
  return false;
}
