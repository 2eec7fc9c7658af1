// One of Herald's processes (worker or API) under a small supervisor: the suite SIGKILLs it on purpose,
// and it also restarts it after an exit nobody asked for (counted: the report names both).
import path from 'node:path';
import { spawnNode, type BenchProcess } from '../tools/local-stack/processes.js';

export interface SupervisedProcess {
  name: string;
  readonly pid: number | undefined;
  /** SIGKILLs the process and waits until it is ready again. */
  killAndRestart(): Promise<void>;
  /** Exits the suite did not cause. */
  readonly unexpectedExits: number;
  readonly starts: number;
  stop(): Promise<void>;
}

export interface SupervisedOptions {
  name: string;
  entry: string;
  env: Record<string, string>;
  readyLine: RegExp;
  logDir: string;
  log: (line: string) => void;
}

export async function startSupervised(options: SupervisedOptions): Promise<SupervisedProcess> {
  let current: BenchProcess | undefined;
  let starting: Promise<void> | undefined;
  let stopping = false;
  let expectingExit = false;
  let unexpectedExits = 0;
  let starts = 0;

  const start = (): Promise<void> =>
    (starting ??= (async () => {
      for (;;) {
        try {
          starts++;
          current = await spawnNode({
            name: options.name,
            entry: options.entry,
            env: options.env,
            readyLine: options.readyLine,
            logFile: path.join(options.logDir, `${options.name}-${starts}.log`),
          });
          break;
        } catch (error) {
          // A start can fail while a fault is on (Temporal or PostgreSQL down): try again.
          if (stopping) throw error;
          options.log(`${options.name} did not start (${String(error)}); retrying`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      const child = current.child;
      child.once('exit', (code, signal) => {
        if (stopping || expectingExit) return;
        unexpectedExits++;
        options.log(`${options.name} exited unexpectedly (code ${code}, signal ${signal}); restarting`);
        void start().catch(() => undefined);
      });
    })().finally(() => (starting = undefined)));

  await start();
  return {
    name: options.name,
    get pid() {
      return current?.pid;
    },
    get unexpectedExits() {
      return unexpectedExits;
    },
    get starts() {
      return starts;
    },
    async killAndRestart() {
      await starting;
      const child = current!.child;
      expectingExit = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      expectingExit = false;
      await start();
    },
    async stop() {
      stopping = true;
      await starting?.catch(() => undefined);
      await current?.stop();
    },
  };
}
