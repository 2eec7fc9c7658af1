// Herald's Temporal Schedules (the reconciler, inbox retention) are made sure of by every worker that
// serves the notifications queue: created when absent, brought to the current spec when present, so an
// upgrade that changes one applies. Its state (paused by an operator, say) is left as it is.
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';

export async function ensureSchedule(temporal: Client, schedule: ScheduleOptions): Promise<string> {
  try {
    await temporal.schedule.create(schedule);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await temporal.schedule.getHandle(schedule.scheduleId).update((previous) => ({
      ...previous,
      spec: schedule.spec,
      action: schedule.action,
      policies: schedule.policies,
    }));
  }
  return schedule.scheduleId;
}
