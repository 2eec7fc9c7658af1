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

/** Where a stalling server stops answering: before its greeting, or after the message's data. */
export type SmtpStall = 'greeting' | 'data';

/** One client connection, as the server saw it. */
export interface SmtpSession {
  openedAt: number;
  closedAt?: number;
  /** The recipients the client named (RCPT TO), in this session's transactions. */
  rcptTo: string[];
}

export interface SmtpSink {
  url: string;
  port: number;
  /** The messages the server accepted (answered 250 to their data). */
  messages: ReceivedMail[];
  sessions: SmtpSession[];
  /**
   * From now on, hold sessions at this point without a word, as a hung server does (the connection
   * stays open); undefined answers again. Held sessions stay held until the client gives up.
   */
  stall(at: SmtpStall | undefined): void;
  /**
   * Answer the next RCPT/DATA commands with an SMTP error (such as 451 or 550) this many times; with `to`,
   * only those for that recipient, so a stray message for another cannot use the failures up.
   */
  failNext(code: number, times?: number, to?: string): void;
  /** Forget failures not yet used. */
  clearFailures(): void;
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) that keeps every message it accepts, parsed with mailparser. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const arrivals = createWaiters(messages, 'email reached the SMTP sink');
  const failures: { code: number; to?: string }[] = [];
  const port = await freePort();
  const sessions = new Map<string, SmtpSession>();
  let stalling: SmtpStall | undefined;

  const reject = (code: number) =>
    Object.assign(new Error(`${code} simulated failure`), { responseCode: code });
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'], // smtp-server's built-in certificate has expired
    logger: false,
    onConnect(session, callback) {
      sessions.set(session.id, { openedAt: Date.now(), rcptTo: [] });
      if (stalling !== 'greeting') callback();
    },
    onClose(session) {
      const record = sessions.get(session.id);
      if (record) record.closedAt = Date.now();
    },
    onRcptTo(address, session, callback) {
      sessions.get(session.id)?.rcptTo.push(address.address);
      const index = failures.findIndex((failure) => !failure.to || failure.to === address.address);
      const code = index < 0 ? undefined : failures.splice(index, 1)[0]!.code;
      callback(code ? reject(code) : undefined);
    },
    onData(stream, session, callback) {
      if (stalling === 'data') {
        // Read to the end, and never answer: the client cannot know whether the message was taken.
        stream.on('error', () => undefined);
        stream.resume();
        return;
      }
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
    get sessions() {
      return [...sessions.values()];
    },
    stall(at) {
      stalling = at;
    },
    failNext(code, times = 1, to) {
      for (let i = 0; i < times; i++) failures.push({ code, to });
    },
    clearFailures() {
      failures.length = 0;
    },
    waitFor: arrivals.waitFor,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
