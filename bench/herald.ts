// Herald's own processes for one benchmark part: worker processes (src/workers/main.ts) and the API
// (src/api/main.ts) of one build (the current checkout, or the baseline's worktree), started from source through
// tsx (the image runs the compiled dist/), with that build's environment (its database and workflow bundle).
import path from 'node:path';
import { freePort } from '../tools/local-stack/ports.js';
import { spawnNode, type BenchProcess } from '../tools/local-stack/processes.js';
import type { BenchStack, HeraldBuild } from './stack.js';

export interface HeraldProcesses {
  workers: BenchProcess[];
  api?: BenchProcess;
  apiUrl: string;
  all: BenchProcess[];
  stop(): Promise<void>;
}

export interface HeraldOptions {
  /** Names the log and profile files. */
  label: string;
  workers: number;
  api: boolean;
  /** Writes a CPU profile of each process into this folder when it stops. */
  profileDir?: string;
  /** Additions to the stack's environment, such as TEMPORAL_NAMESPACE or WORKFLOW_BUNDLE_PATH=''. */
  env?: Record<string, string>;
  /** Which Herald: the stack's current build unless given. */
  build?: HeraldBuild;
}

export async function startHeraldProcesses(
  stack: Pick<BenchStack, 'tmpDir' | 'current'>,
  options: HeraldOptions,
): Promise<HeraldProcesses> {
  const build = options.build ?? stack.current;
  const env = { ...build.env, ...options.env };
  const started: BenchProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
  };
  try {
    // One at a time: two workers bundling or connecting at once would only slow each other.
    for (let i = 0; i < options.workers; i++) {
      const name = `${options.label}-worker-${i + 1}`;
      started.push(
        await spawnNode({
          name,
          entry: path.join(build.root, 'src/workers/main.ts'),
          env,
          readyLine: /"msg":"worker started"/,
          logFile: path.join(stack.tmpDir, `${name}.log`),
          cpuProfileDir: options.profileDir,
        }),
      );
    }
    const workers = [...started];
    let api: BenchProcess | undefined;
    let apiUrl = '';
    if (options.api) {
      const port = await freePort();
      const name = `${options.label}-api`;
      api = await spawnNode({
        name,
        entry: path.join(build.root, 'src/api/main.ts'),
        env: { ...env, PORT: String(port) },
        readyLine: /API listening/,
        logFile: path.join(stack.tmpDir, `${name}.log`),
        cpuProfileDir: options.profileDir,
      });
      started.push(api);
      apiUrl = `http://127.0.0.1:${port}`;
    }
    return { workers, api, apiUrl, all: [...started], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
