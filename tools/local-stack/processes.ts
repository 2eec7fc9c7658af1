// The processes a benchmark part runs (Herald's worker and API, the floor worker), each a plain
// `node --import tsx <entry>` so its pid is the process that does the work: /proc reads its memory and
// CPU time, and `--cpu-prof` profiles it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './paths.js';
import { stopChild } from './temporal-server.js';

export interface BenchProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Milliseconds from spawn until the ready line appeared. */
  startupMs: number;
  logFile: string;
  /** SIGTERM, and the exit it leads to (a CPU profile is written on exit). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Entry file, relative to the project root. */
  entry: string;
  args?: string[];
  env: Record<string, string>;
  /** Ready when a line of the process's output matches. */
  readyLine: RegExp;
  /** Output goes here, not to the console. */
  logFile: string;
  /** Writes a V8 CPU profile into this folder when the process exits. */
  cpuProfileDir?: string;
  timeoutMs?: number;
}

export async function spawnNode(options: SpawnOptions): Promise<BenchProcess> {
  const started = performance.now();
  // One folder per process: every thread (the main one, tsx's loader, Temporal's workflow threads)
  // writes its own CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile there.
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(options.cpuProfileDir, options.name)}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', options.entry, ...(options.args ?? [])],
    { cwd: projectRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(options.logFile);
  let seen = '';
  let isReady = false;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.name} was not ready after ${options.timeoutMs ?? 120_000} ms`)),
      options.timeoutMs ?? 120_000,
    );
    const watch = (chunk: Buffer) => {
      log.write(chunk);
      if (isReady) return;
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (options.readyLine.test(seen)) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', watch);
    child.stderr!.on('data', watch);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${options.name} exited during start-up (code ${code}, signal ${signal}); see ${options.logFile}`,
        ),
      );
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name: options.name,
    pid: child.pid!,
    child,
    startupMs: performance.now() - started,
    logFile: options.logFile,
    async stop() {
      await stopChild(child, 30_000);
      await new Promise((resolve) => log.end(resolve));
    },
  };
}

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, its reaped children included. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (utime! + stime! + cutime! + cstime!) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** A process and its live children (PostgreSQL's backends are children of the postmaster). */
export function treeCpuSeconds(rootPid: number): number {
  let total = cpuSeconds(rootPid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(path.join('/proc', entry, 'stat'), 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === rootPid) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Runs a short-lived `node --import tsx <entry>` and parses the last line it prints as JSON. */
export function runNodeForJson<T>(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${entry} exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as T);
      } catch (error) {
        reject(error);
      }
    });
  });
}
