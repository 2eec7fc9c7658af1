// Where a process's time went: a V8 CPU profile (node --cpu-prof) summarised by self time, per
// function and per package (the Prisma client, the Temporal SDK, Herald's own code, ...).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  /** Self time in milliseconds, and its share of the busy (non-idle) time. */
  ms: number;
  share: number;
}

export interface ProfileSummary {
  process: string;
  /** Milliseconds sampled, and of those not idle. */
  totalMs: number;
  busyMs: number;
  byPackage: ProfileEntry[];
  topFunctions: ProfileEntry[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** `node_modules/@prisma/client/...` → `@prisma/client`; `src/activities/deliver.ts` → `src/activities`. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (built-in)';
  if (url.endsWith('workflow-bundle.js')) return "Herald's workflow bundle";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const own = /\/(src|bench|test)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

function place(url: string, line: number): string {
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/(src|bench)\//, '$1/');
  return short ? `${short}:${line + 1}` : '';
}

/** Self time of one or more profiles (threads of one process), merged. */
export function summarizeProfiles(files: readonly string[], processName: string, top = 15): ProfileSummary {
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalUs = 0;
  let busyUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of selfUs) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      totalUs += us;
      if (IDLE.has(functionName)) continue;
      busyUs += us;
      const name = `${functionName || '(anonymous)'} ${place(url, lineNumber)}`.trim();
      functions.set(name, (functions.get(name) ?? 0) + us);
      const pkg = packageOf(url, functionName);
      packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    }
  }
  const entries = (map: Map<string, number>, limit: number): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 1000),
        share: Math.round((us / Math.max(1, busyUs)) * 1000) / 10,
      }));
  return {
    process: processName,
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    byPackage: entries(packages, 10),
    topFunctions: entries(functions, top),
  };
}

export interface ProcessProfile {
  /** The main thread: Herald's activities, the API, the SDK's JavaScript side. */
  main: ProfileSummary;
  /** Every other thread (Temporal's workflow threads, tsx's loader), merged; absent if none. */
  otherThreads?: ProfileSummary;
}

/** The profiles one process wrote into its folder (tools/local-stack/processes.ts); thread 0 is the main one. */
export function summarizeProcessProfiles(dir: string, processName: string): ProcessProfile | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  const isMain = (f: string) => f.split('.')[4] === '0';
  const main = files.filter(isMain).map((f) => path.join(dir, f));
  const others = files.filter((f) => !isMain(f)).map((f) => path.join(dir, f));
  if (main.length === 0) return undefined;
  return {
    main: summarizeProfiles(main, processName),
    otherThreads:
      others.length > 0 ? summarizeProfiles(others, `${processName} (other threads)`, 8) : undefined,
  };
}
