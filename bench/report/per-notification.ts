// The report's "What one notification costs" section: the inputs of docs/capacity.md, from the e2e part
// (a whole notification: accepted, run, delivered on three channels) and the API part (accepted only).
import type { ApiResult } from '../parts/api.js';
import type { EndToEndResult } from '../parts/e2e.js';
import type { HistoryCost } from '../per-notification.js';

const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const history = (h: HistoryCost) =>
  `${h.events.mean} (${h.events.min}–${h.events.max}) events, ${h.bytes} bytes, ${h.stateTransitions} state transitions (sample of ${h.sampled})`;
const listed = (values: Record<string, number>) =>
  Object.entries(values)
    .map(([name, ms]) => `${name} ${ms}`)
    .join(', ');

export function perNotificationLines(e2e?: EndToEndResult, api?: ApiResult): string[] {
  const cost = e2e?.perNotification;
  if (!cost && !api?.api.history) return [];
  const out = [
    '## What one notification costs',
    '',
    'Temporal history from DescribeWorkflowExecution on a sample of the part’s workflows; CPU from /proc (utime + stime of each process tree) before and after the part; PostgreSQL from its tables and WAL ([docs/capacity.md](../../docs/capacity.md) builds on these).',
    '',
    row('part', 'measure', 'per notification'),
    row('---', '---', '---'),
  ];
  if (cost) {
    out.push(
      row('e2e (email, push, Telegram)', 'Temporal history', history(cost.history)),
      row('', 'history events by type', listed(cost.history.eventTypes)),
      row('', 'CPU ms by process', listed(cost.cpuMs)),
    );
    if (cost.storage) {
      const s = cost.storage;
      out.push(
        row(
          '',
          'PostgreSQL rows',
          `1 notification, ${s.deliveriesPerNotification} deliveries, ${s.attemptsPerNotification} attempts`,
        ),
        row('', 'bytes per row (table + indexes)', listed(s.bytesPerRow)),
        row('', 'PostgreSQL WAL bytes', s.walBytesPerNotification),
        row(
          '',
          'PostgreSQL transactions, row writes',
          `${s.transactionsPerNotification}, ${s.rowWritesPerNotification}`,
        ),
      );
    }
  }
  if (api?.api.history)
    out.push(
      row('api (accepted, not run)', 'Temporal history', history(api.api.history)),
      row(
        '',
        'CPU ms by process',
        listed({ api: api.api.cpuMsPerRequest, ...api.api.serverCpuMsPerRequest }),
      ),
      row(
        'direct start (floor of the API)',
        'CPU ms by process',
        listed({ benchmark: api.direct.cpuMsPerRequest, ...api.direct.serverCpuMsPerRequest }),
      ),
    );
  out.push('');
  return out;
}
