// Memory and CPU of every process in a part: resident memory sampled from /proc, CPU seconds taken
// before and after the load, so the report can say which process the time went to.
import { cpuSeconds, residentBytes, treeCpuSeconds } from '../tools/local-stack/processes.js';

export interface Watched {
  name: string;
  pid: number;
  /** Count the process's children too (PostgreSQL's backends). */
  tree?: boolean;
  /** Sample its resident memory (Herald's processes; not the servers). */
  memory?: boolean;
}

export interface MemoryUse {
  /** MiB when the load started, at the highest sample, and after the load settled. */
  startMiB: number;
  peakMiB: number;
  afterMiB: number;
  /** Seconds since the load started, and MiB: for the soak's chart. */
  series: [number, number][];
}

const MiB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

export interface Monitor {
  /** CPU seconds per process since the monitor started. */
  cpu(): Record<string, number>;
  /** Takes the "after" sample and stops sampling. */
  finish(): Record<string, MemoryUse>;
}

export function startMonitor(watched: readonly Watched[], intervalMs = 500): Monitor {
  const began = performance.now();
  const cpuOf = (w: Watched) => (w.tree ? treeCpuSeconds(w.pid) : cpuSeconds(w.pid));
  const cpuAtStart = new Map(watched.map((w) => [w.name, cpuOf(w)]));
  const selfAtStart = process.cpuUsage();
  const series = new Map<string, [number, number][]>(
    watched.filter((w) => w.memory).map((w) => [w.name, []]),
  );
  const sample = () => {
    const t = round((performance.now() - began) / 1000);
    for (const w of watched) {
      const bytes = w.memory ? residentBytes(w.pid) : undefined;
      if (bytes !== undefined) series.get(w.name)!.push([t, round(bytes / MiB)]);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    cpu() {
      const used: Record<string, number> = {};
      for (const w of watched) used[w.name] = round(cpuOf(w) - cpuAtStart.get(w.name)!);
      const self = process.cpuUsage(selfAtStart);
      used.benchmark = round((self.user + self.system) / 1e6);
      return used;
    },
    finish() {
      clearInterval(timer);
      sample();
      const result: Record<string, MemoryUse> = {};
      for (const [name, points] of series) {
        if (points.length === 0) continue;
        result[name] = {
          startMiB: points[0]![1],
          peakMiB: Math.max(...points.map((p) => p[1])),
          afterMiB: points.at(-1)![1],
          series: points,
        };
      }
      return result;
    },
  };
}
