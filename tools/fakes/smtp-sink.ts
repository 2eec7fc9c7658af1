import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from '../local-stack/ports.js';
import { createWaiters } from './waiters.js';

export interface ReceivedMail {
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: string;
  /** `Date.now()` when the message's data had arrived, before parsing (the benchmark's receipt time). */
  at: number;
}

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Answer the next RCPT/DATA commands with an SMTP error (such as 451 or 550) this many times. */
  failNext(code: number, times?: number): void;
  /** Forget failures not yet used. */
  clearFailures(): void;
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) that keeps every message it accepts, parsed with mailparser. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const arrivals = createWaiters(messages, 'email reached the SMTP sink');
  const failures: number[] = [];
  const port = await freePort();

  const reject = (code: number) =>
    Object.assign(new Error(`${code} simulated failure`), { responseCode: code });
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'], // smtp-server's built-in certificate has expired
    logger: false,
    onRcptTo(_address, _session, callback) {
      const code = failures.shift();
      callback(code ? reject(code) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const at = Date.now();
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            messages.push({
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              parsed,
              raw,
              at,
            });
            arrivals.notify();
            callback();
          })
          .catch(callback);
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    failNext(code, times = 1) {
      for (let i = 0; i < times; i++) failures.push(code);
    },
    clearFailures() {
      failures.length = 0;
    },
    waitFor: arrivals.waitFor,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
