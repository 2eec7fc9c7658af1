// A small process supervisor for `npm run dev`: prefixed, readable output; a child that dies is
// reported (and restarted with backoff where asked); Ctrl-C stops every child in reverse start order.
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from './temporal-server.js';

const COLORS = [36, 35, 33, 32, 34, 31, 96, 95];
const colorOf = new Map<string, number>();
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

/** A line printer for one part: `[api] INFO request method=POST status=202`. */
export function prefixer(name: string): (line: string) => void {
  if (!colorOf.has(name)) colorOf.set(name, COLORS[colorOf.size % COLORS.length]!);
  const tag = useColor ? `\x1b[${colorOf.get(name)}m[${name}]\x1b[0m` : `[${name}]`;
  return (text) => {
    for (const line of text.split('\n')) if (line.trim()) console.log(`${tag} ${readable(line)}`);
  };
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'msg', 'name', 'service', 'pid', 'hostname']);

/** Pino's JSON lines become `LEVEL message key=value`; anything else passes through. */
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(entry)
      .filter(([k]) => !SKIP.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return [LEVELS[entry.level as number] ?? '', entry.msg ?? '', ...fields].join(' ').trim();
  } catch {
    return line;
  }
}

interface Part {
  name: string;
  stop: () => Promise<void>;
}

export class Supervisor {
  private parts: Part[] = [];
  private stopping = false;

  /** Runs a child with prefixed output; with `restart`, a child that dies is started again. */
  spawn(
    name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
    options: { restart?: boolean } = {},
  ): void {
    const print = prefixer(name);
    let child: ChildProcess;
    let failures = 0;
    const start = () => {
      const startedAt = Date.now();
      child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      prefixer('dev')(`${name} started (pid ${child.pid})`);
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.setEncoding('utf8');
        let buffered = '';
        stream.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) print(line);
        });
      }
      child.once('exit', (code, signal) => {
        // Ctrl-C reaches the children too; give the supervisor's own handler a moment to run first.
        setTimeout(() => {
          if (this.stopping) return;
          prefixer('dev')(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
          if (!options.restart) return void this.shutdown(`${name} died`, 1);
          failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
          const delay = Math.min(30_000, 1000 * 2 ** (failures - 1));
          prefixer('dev')(`restarting ${name} in ${delay / 1000} s`);
          setTimeout(() => this.stopping || start(), delay);
        }, 300);
      });
    };
    start();
    this.parts.push({ name, stop: () => stopChild(child) });
  }

  /** Watches a child started elsewhere (such as the Temporal dev server). */
  adopt(name: string, child: ChildProcess, stop: () => Promise<void>): void {
    child.once('exit', (code, signal) =>
      setTimeout(() => {
        if (this.stopping) return;
        prefixer('dev')(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
        void this.shutdown(`${name} died`, 1);
      }, 300),
    );
    this.parts.push({ name, stop });
  }

  onStop(name: string, stop: () => Promise<void>): void {
    this.parts.push({ name, stop });
  }

  async shutdown(reason: string, exitCode = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const say = prefixer('dev');
    say(`stopping (${reason})`);
    for (const part of [...this.parts].reverse()) {
      try {
        await part.stop();
        say(`${part.name} stopped`);
      } catch (error) {
        say(`${part.name} did not stop cleanly: ${String(error)}`);
      }
    }
    process.exit(exitCode);
  }
}
