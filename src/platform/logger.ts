import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Secrets and personal data are redacted wherever they may appear. */
export function createLogger(
  name: string,
  /** LOG_LEVEL as the configuration read it (info unless set). */
  level: string,
  /** Where the lines go; standard output when unset (tests capture them here). */
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'apiKey',
        'email',
        'phone',
        'body',
        '*.email',
        '*.phone',
        '*.body',
        // A user's contacts on every channel, and a contact row's address.
        'contacts',
        '*.contacts',
        'address',
        '*.address',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
