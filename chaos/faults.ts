// The faults the suite injects, each at a point of the load's progress (share of notifications accepted).
// Two plans: the full run of `npm run chaos`, and the short one of `npm test`.
import type { ChaosStack } from './stack.js';
import { recipientOf } from './stack.js';

export interface FaultContext {
  stack: ChaosStack;
  notifications: number;
  /** Notifications accepted so far. */
  accepted(): number;
  /** Recipients whose push target (browser or phone) its provider now says is gone. */
  goneSubscriptions: Set<number>;
  log(line: string): void;
}

export interface Fault {
  /** Share of notifications accepted (0 to 1) at which the fault starts. */
  at: number;
  name: string;
  /** Resolves when the fault has been injected; a fault that lasts (an outage) may end later. */
  inject(context: FaultContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const killWorker = (at: number): Fault => ({
  at,
  name: 'SIGKILL worker (restarted)',
  inject: ({ stack }) => stack.worker.killAndRestart(),
});

/** Requests in flight die with it; clients retry with their Idempotency-Key, and none may double or stay open. */
export const killApi = (at: number): Fault => ({
  at,
  name: 'SIGKILL API (restarted)',
  inject: ({ stack }) => stack.api.killAndRestart(),
});

export const smtpDown = (at: number, seconds: number): Fault => ({
  at,
  name: `SMTP sink down ${seconds} s`,
  async inject({ stack, log }) {
    await stack.smtpGate.close();
    // The outage runs on while the load and the next faults go on.
    void sleep(seconds * 1000)
      .then(() => stack.smtpGate.open())
      .then(() => log('SMTP sink back up'));
  },
});

export const telegramBurst = (at: number, status: 429 | 500 | 502, times: number): Fault => ({
  at,
  name: `Telegram ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.telegram.failNext(times, {
      status,
      description: status === 429 ? 'Too Many Requests: retry after 1' : 'Internal Server Error',
      ...(status === 429 && { retryAfter: 1 }),
      method: 'sendMessage',
    });
  },
});

/** Twilio's 429 carries its error 20429 and Retry-After; a 5xx its own status as the code. */
export const twilioBurst = (at: number, status: 429 | 500 | 503, times: number): Fault => ({
  at,
  name: `Twilio ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.twilio.failNext(
      times,
      status === 429 ? { status, code: 20429, message: 'Too Many Requests', retryAfter: 1 } : { status },
    );
  },
});

/** Slack answers `ok: false` with `ratelimited` and Retry-After on 429, `internal_error` on a 5xx. */
export const slackBurst = (at: number, status: 429 | 500 | 503, times: number): Fault => ({
  at,
  name: `Slack ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.slack.failNext(times, { status, ...(status === 429 && { retryAfter: 1 }) });
  },
});

/** Discord's 429 says `retry_after` in fractional seconds in its JSON (Retry-After rounds it up). */
export const discordBurst = (at: number, status: 429 | 500 | 502 | 503, times: number): Fault => ({
  at,
  name: `Discord ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.discord.failNext(times, { status, ...(status === 429 && { retryAfter: 1.5 }) });
  },
});

export const teamsBurst = (at: number, status: 429 | 500 | 502 | 503, times: number): Fault => ({
  at,
  name: `Teams ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.teams.failNext(times, { status, ...(status === 429 && { retryAfter: 1 }) });
  },
});

/** FCM's 429 is QUOTA_EXCEEDED with Retry-After; a 5xx its own (UNAVAILABLE for 503, INTERNAL for 500). */
export const fcmBurst = (at: number, status: 429 | 500 | 503, times: number): Fault => ({
  at,
  name: `FCM ${status} × ${times}`,
  async inject({ stack }) {
    stack.sinks.fcm.failNext(times, { status, ...(status === 429 && { retryAfter: 1 }) });
  },
});

/** APNs says TooManyRequests on 429, InternalServerError or ServiceUnavailable on a 5xx. */
export const apnsBurst = (at: number, status: 429 | 500 | 503, times: number): Fault => ({
  at,
  name: `APNs ${status} × ${times}`,
  async inject({ stack }) {
    const reason =
      status === 429 ? 'TooManyRequests' : status === 500 ? 'InternalServerError' : 'ServiceUnavailable';
    stack.sinks.apns.failNext(times, { status, reason, ...(status === 429 && { retryAfter: 1 }) });
  },
});

/**
 * From now on, every `every`-th recipient not yet accepted has a push target its provider calls gone:
 * a browser subscription answers 410, an FCM device UNREGISTERED (404), an APNs device 410 Unregistered.
 */
export const pushGone = (at: number, every: number): Fault => ({
  at,
  name: `push gone (410, UNREGISTERED) for every ${every}th browser or phone from here on`,
  async inject({ stack, notifications, accepted, goneSubscriptions }) {
    for (let i = accepted(); i < notifications; i++) {
      if (i % every !== 3) continue;
      goneSubscriptions.add(i);
      const target = recipientOf.pushTarget(i);
      if (target === 'browser') stack.sinks.push.answerNext(recipientOf.pushPath(i), 410, 3);
      else if (target === 'fcm') stack.sinks.fcm.unregister(recipientOf.fcmToken(i));
      else stack.sinks.apns.unregister(recipientOf.apnsToken(i));
    }
  },
});

export const restartTemporal = (at: number): Fault => ({
  at,
  name: 'restart Temporal dev server (same SQLite file)',
  inject: ({ stack }) => stack.restartTemporal(2000),
});

export const restartPostgres = (at: number): Fault => ({
  at,
  name: 'restart PostgreSQL',
  inject: ({ stack }) => stack.restartPostgres(2000),
});

export function fullPlan(smtpDownSeconds = 30): Fault[] {
  return [
    telegramBurst(0.05, 429, 40),
    killWorker(0.1),
    smtpDown(0.15, smtpDownSeconds),
    killApi(0.2),
    twilioBurst(0.25, 503, 40),
    slackBurst(0.28, 429, 40),
    discordBurst(0.32, 502, 30),
    teamsBurst(0.38, 429, 40),
    pushGone(0.3, 25),
    killWorker(0.35),
    restartTemporal(0.45),
    telegramBurst(0.5, 502, 30),
    restartPostgres(0.6),
    killApi(0.7),
    twilioBurst(0.65, 429, 40),
    slackBurst(0.68, 503, 30),
    discordBurst(0.72, 429, 40),
    teamsBurst(0.8, 502, 30),
    killWorker(0.75),
    telegramBurst(0.85, 429, 40),
    fcmBurst(0.22, 429, 30),
    apnsBurst(0.42, 503, 30),
    fcmBurst(0.62, 503, 30),
    apnsBurst(0.78, 429, 30),
  ];
}

export function shortPlan(): Fault[] {
  // In order of `at`: the faults go in in that order.
  return [
    telegramBurst(0.1, 429, 20),
    pushGone(0.15, 25),
    slackBurst(0.2, 429, 15),
    fcmBurst(0.25, 429, 6),
    killWorker(0.3),
    discordBurst(0.35, 502, 10),
    killApi(0.4),
    twilioBurst(0.45, 429, 15),
    smtpDown(0.5, 5),
    apnsBurst(0.55, 503, 6),
    teamsBurst(0.6, 503, 10),
    fcmBurst(0.65, 503, 5),
    apnsBurst(0.7, 429, 5),
  ];
}
