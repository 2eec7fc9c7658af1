// The chaos run's report: a table for the console, and chaos/results/<date>.md and .json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaosResult } from './suite.js';
import { CHANNELS } from './verify.js';

export function resultTable(result: ChaosResult): string {
  const v = result.verdict;
  const header = ['', ...CHANNELS];
  const rows: string[][] = [
    ['delivered', ...CHANNELS.map((c) => String(v.delivered[c]))],
    ['confirmed by a receipt (Twilio callback)', ...CHANNELS.map((c) => String(v.confirmed[c]))],
    ['refused for good (push target gone)', ...CHANNELS.map((c) => String(v.permanentFailures[c]))],
    ['duplicates at the sink', ...CHANNELS.map((c) => String(v.duplicates[c]))],
    ['of them unexplained (no lost outcome)', ...CHANNELS.map((c) => String(v.unexplainedDuplicates[c]))],
  ];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const states = Object.entries(v.finalStates)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  return [
    `| accepted | final states | lost | database ≠ sinks |`,
    `| --- | --- | --- | --- |`,
    line([String(v.accepted), states || 'none', String(v.lost.length), String(v.disagreements.length)]),
    '',
    line(header),
    line(header.map(() => '---')),
    ...rows.map(line),
  ].join('\n');
}

export function markdownReport(result: ChaosResult, command: string): string {
  const v = result.verdict;
  const faults = result.injected.map(
    (f) => `| ${f.atSeconds} s | ${Math.round(f.atProgress * 100)} % | ${f.name} | ${f.tookMs} ms |`,
  );
  const problems = [...v.lost, ...v.disagreements];
  return [
    `# Chaos run ${new Date().toISOString()}`,
    '',
    `\`${command}\` on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB. Result: **${result.passed ? 'PASSED' : 'FAILED'}**.`,
    '',
    resultTable(result),
    '',
    `- Email Message-IDs seen twice: ${result.repeatedEmailMessageIds} (a resend carries the first one's Message-ID, so mail clients can fold it). Receipts for no accepted notification: ${v.strays}.`,
    `- A duplicate is explained when an attempt's outcome never reached Herald: the worker was killed mid-send, or the connection was cut after the provider had the message. Neither SMTP nor these HTTP providers can say whether it arrived, so Herald sends again rather than risk a loss.`,
    `- Push by what it reached (a third of the recipients each): browser ${v.pushDelivered.browser}, FCM phone ${v.pushDelivered.fcm}, APNs phone ${v.pushDelivered.apns}; gone (410, UNREGISTERED) ${v.permanentFailures.push}.`,
    `- 429 and 5xx answers given by the fakes (the bursts): ${Object.entries(result.refusedAnswers)
      .map(([provider, n]) => `${provider} ${n}`)
      .join(', ')}.`,
    `- Twilio status callbacks (\`delivered\`): ${result.twilioCallbacks.taken} answered 2xx by the API, ${result.twilioCallbacks.missed} not (the API down; Twilio does not send them again); SMS deliveries confirmed \`delivered\`: ${v.confirmed.sms}, the others stay \`sent\`.`,
    `- API requests retried (same Idempotency-Key): ${result.apiRetries}; never accepted: ${result.refused}.`,
    `- Worker starts: ${result.workerStarts}, API starts: ${result.apiStarts}; exits nobody asked for: worker ${result.unexpectedExits.worker}, API ${result.unexpectedExits.api}.`,
    `- Load ${result.loadSeconds.toFixed(0)} s, settling ${result.settleSeconds.toFixed(0)} s, whole run ${result.totalSeconds.toFixed(0)} s.`,
    '',
    '## Faults injected',
    '',
    '| at | progress | fault | injecting took |',
    '| --- | --- | --- | --- |',
    ...faults,
    '',
    ...(problems.length
      ? ['## Problems', '', ...problems.slice(0, 50).map((p) => `- ${p}`), '']
      : ['No notification lost; the database agrees with the sinks.', '']),
  ].join('\n');
}

/** Writes chaos/results/<date>.md and .json; returns the markdown path. */
export function writeReport(result: ChaosResult, command: string, resultsDir: string): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const base = path.join(resultsDir, stamp);
  writeFileSync(`${base}.md`, markdownReport(result, command));
  const { dir: _dir, ...kept } = result;
  writeFileSync(`${base}.json`, `${JSON.stringify({ command, ...kept }, null, 2)}\n`);
  return `${base}.md`;
}
