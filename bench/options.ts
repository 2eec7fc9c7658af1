// `npm run bench -- [PART ...] [--notifications N] [--parts e2e,floor,smtp,api,memory,scaling,inbox] [--soak]
//                    [--concurrency C] [--no-profile] [--variant K=V] [--baseline REF] [--rounds R] [--out DIR]`
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../tools/local-stack/paths.js';

export const PARTS = [
  'e2e',
  'floor',
  'smtp',
  'api',
  'memory',
  'scaling',
  'inbox',
  'bulk',
  'isolation',
  'broadcast',
] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  notifications: number;
  parts: Part[];
  /** 100,000 notifications (or --soak-notifications) through one stack, memory sampled throughout. */
  soak: boolean;
  soakNotifications: number;
  /** Requests (and direct starts) in flight at once. */
  concurrency: number;
  /** Inbox streams held open while the inbox part sends. */
  inboxStreams: number;
  /** Low-priority notifications the isolation part runs its urgent ones against. */
  isolationLoad: number;
  /** Subscribers of the topic the broadcast part sends one notification to. */
  broadcastSubscribers: number;
  /** CPU profiles (node --cpu-prof) of every Herald and floor process, summarised in the report. */
  profile: boolean;
  outDir: string;
  /** Herald environment overrides, each run end to end against the configuration as it stands. */
  variants: Record<string, string>[];
  /** A git ref whose Herald runs the e2e and api parts beside the current checkout's. */
  baseline?: string;
  /** Rounds of those comparisons (the order reverses each round). */
  rounds: number;
  /** The command line, for the report. */
  command: string;
}

export const USAGE = `npm run bench -- [PART ...] [options]
  PART ...                the parts to run, as --parts (npm run bench -- inbox)
  --notifications N       notifications per part (default 1000; the inbox part sends at most 600)
  --parts LIST            any of ${PARTS.join(',')} (default all)
  --inbox-streams N       event streams the inbox part holds open (default 1000)
  --isolation-load N      low-priority notifications the isolation part sends (default 3000)
  --broadcast-subscribers N  subscribers the broadcast part's one notification goes to (default 20000)
  --soak                  also push 100,000 notifications and chart memory (long)
  --soak-notifications N  the soak's size (default 100000)
  --concurrency C         API requests / workflow starts in flight (default 16)
  --no-profile            no CPU profiles (node --cpu-prof)
  --variant K=V[,K=V]     also compare end to end with this Herald environment (repeatable), such as
                          --variant WORKER_ACTIVITY_CONCURRENCY=100,DATABASE_POOL_SIZE=10
  --baseline REF          also run the e2e and api parts with Herald as it was at git ref REF (a
                          commit, branch or tag), side by side with the current checkout
  --rounds R              rounds of those comparisons, order reversed each round (default 2)
  --out DIR               where reports go (default bench/results)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      notifications: { type: 'string', default: '1000' },
      parts: { type: 'string', default: PARTS.join(',') },
      soak: { type: 'boolean', default: false },
      'soak-notifications': { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '16' },
      'inbox-streams': { type: 'string', default: '1000' },
      'isolation-load': { type: 'string', default: '3000' },
      'broadcast-subscribers': { type: 'string', default: '20000' },
      'no-profile': { type: 'boolean', default: false },
      variant: { type: 'string', multiple: true, default: [] },
      baseline: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      out: { type: 'string', default: path.join(projectRoot, 'bench', 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const count = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const parts = (positionals.length > 0 ? positionals.join(',') : values.parts)
    .split(',')
    .map((p) => p.trim()) as Part[];
  const unknown = parts.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0)
    throw new Error(`unknown part(s) ${unknown.join(', ')}; known: ${PARTS.join(', ')}`);
  const baseline = values.baseline?.trim() || undefined;
  if (baseline && !parts.includes('e2e') && !parts.includes('api'))
    throw new Error('--baseline compares the e2e and api parts; --parts names neither');
  return {
    notifications: count('notifications', values.notifications),
    parts,
    soak: values.soak,
    soakNotifications: count('soak-notifications', values['soak-notifications']),
    concurrency: count('concurrency', values.concurrency),
    inboxStreams: count('inbox-streams', values['inbox-streams']),
    isolationLoad: count('isolation-load', values['isolation-load']),
    broadcastSubscribers: count('broadcast-subscribers', values['broadcast-subscribers']),
    profile: !values['no-profile'],
    variants: values.variant.map((variant) => {
      const pairs = variant.split(',').map((pair) => pair.split('='));
      if (pairs.some((p) => p.length !== 2 || !/^[A-Z_]+$/.test(p[0]!)))
        throw new Error(`--variant ${variant}: expected NAME=value[,NAME=value]`);
      return Object.fromEntries(pairs) as Record<string, string>;
    }),
    baseline,
    outDir: path.resolve(values.out),
    rounds: count('rounds', values.rounds),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
  };
}
