// Herald's Temporal Schedules (the reconciler, inbox retention) are made sure of by every worker that
// serves the notifications queue: created when absent, brought to the current spec when present, so an
// upgrade that changes one applies. Its state (paused by an operator, say) is left as it is.
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';

export async function ensureSchedule(temporal: Client, schedule: ScheduleOptions): Promise<string> {
  const { scheduleId } = schedule;
  try {
    await temporal.schedule.create(schedule);
    return scheduleId;
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = temporal.schedule.getHandle(scheduleId);
  try {
    await handle.update((previous) => ({
      ...previous,
      spec: schedule.spec,
      action: schedule.action,
      policies: schedule.policies,
    }));
  } catch {
    // Unreadable as it stands (its arguments sealed with keys this worker does not hold, or written by an
    // older Herald): a schedule holds no state worth keeping, so it is made anew.
    await handle.delete();
    await temporal.schedule.create(schedule);
  }
  return scheduleId;
}
