// Core settings for the delivery history Herald keeps in PostgreSQL: how long it is kept.
import { defineConfigSlice, variable } from './define.js';
import { duration } from './parsers.js';

export interface HistoryConfig {
  history: { retentionMs: number };
}

export const historyConfig = defineConfigSlice({
  title: 'Delivery history',
  summary:
    'Every notification keeps its deliveries and each attempt in PostgreSQL for audit and recovery: a few rows per notification. A Temporal Schedule (`herald-history-retention`) removes those that ended long ago, every hour, in batches of 1,000 (docs/reliability.md#history-retention).',
  variables: {
    HISTORY_RETENTION: variable({
      description:
        'How long a notification that ended (`sent`, `partially_sent`, `failed`, `skipped`, `cancelled`) is kept, counted from when it was accepted and from when it ended (`400d`, `90d`, ...); then it goes with its deliveries, attempts, inbox message and webhook records, and its `Idempotency-Key` may be used again. Notifications not yet ended stay whatever their age.',
      parse: duration,
      default: '400d',
    }),
  },
  toConfig: (v): HistoryConfig => ({ history: { retentionMs: v.HISTORY_RETENTION } }),
});
