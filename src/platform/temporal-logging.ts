import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from './logger.js';

const LEVELS: Record<LogLevel, number> = { TRACE: 10, DEBUG: 20, INFO: 30, WARN: 40, ERROR: 50 };

/** Sends the Temporal SDK's own logs to our logger; below `minLevel` they are dropped. */
export function installTemporalLogging(logger: Logger, minLevel: LogLevel = 'WARN'): void {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    const method = level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
    logger[method]({ temporal: meta }, message);
  };
  Runtime.install({
    logger: {
      log,
      trace: (m, meta) => log('TRACE', m, meta),
      debug: (m, meta) => log('DEBUG', m, meta),
      info: (m, meta) => log('INFO', m, meta),
      warn: (m, meta) => log('WARN', m, meta),
      error: (m, meta) => log('ERROR', m, meta),
    },
  });
}
