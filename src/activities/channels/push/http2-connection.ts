// One HTTP/2 connection to a provider (APNs speaks nothing else), opened on first use and again after the
// provider ends it (GOAWAY, an idle timeout, an error); concurrent requests share it as streams.
import http2 from 'node:http2';

export interface Http2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export interface Http2Connection {
  /** `signal` cancels the stream where it is (the delivery attempt's, when it has one). */
  post(
    path: string,
    headers: http2.OutgoingHttpHeaders,
    body: string,
    signal?: AbortSignal,
  ): Promise<Http2Answer>;
  close(): Promise<void>;
}

/** A stream cancelled because its connection failed carries the connection's error (ECONNREFUSED) as cause. */
const rootCause = (error: unknown): unknown => {
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  return code === 'ERR_HTTP2_STREAM_CANCEL' && cause ? cause : error;
};

export function createHttp2Connection(
  origin: string,
  options: { ca?: string | Buffer; timeoutMs: number },
): Http2Connection {
  let session: http2.ClientHttp2Session | undefined;
  let closed = false;

  function current(): http2.ClientHttp2Session {
    // A send after close() would open a connection nothing ever closes.
    if (closed) throw new Error(`the connection to ${origin} is closed`);
    if (session && !session.closed && !session.destroyed) return session;
    const opened = http2.connect(origin, options.ca ? { ca: options.ca } : {});
    const forget = () => {
      if (session === opened) session = undefined;
    };
    // The requests on it fail with the error themselves; the next request opens another connection.
    opened.on('error', forget);
    opened.on('goaway', forget);
    opened.on('close', forget);
    session = opened;
    return opened;
  }

  return {
    post(path, headers, body, signal) {
      return new Promise<Http2Answer>((resolve, reject) => {
        let settled = false;
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          outcome();
        };
        let stream: http2.ClientHttp2Stream;
        try {
          stream = current().request({ ':method': 'POST', ':path': path, ...headers }, { signal });
        } catch (error) {
          reject(error);
          return;
        }
        let responseHeaders: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (received) => {
          responseHeaders = received;
        });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () =>
          settle(() =>
            resolve({
              status: Number(responseHeaders[':status'] ?? 0),
              headers: responseHeaders,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          ),
        );
        stream.on('error', (error) => settle(() => reject(rootCause(error))));
        stream.on('close', () =>
          settle(() =>
            reject(
              Object.assign(new Error('the stream closed unanswered'), { code: 'ERR_HTTP2_STREAM_CLOSED' }),
            ),
          ),
        );
        stream.setTimeout(options.timeoutMs, () => {
          settle(() => reject(Object.assign(new Error('the request timed out'), { code: 'ETIMEDOUT' })));
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.end(body);
      });
    },
    async close() {
      closed = true;
      const open = session;
      session = undefined;
      if (!open || open.destroyed) return;
      // Streams still open finish first; one that hangs is cut after the request timeout.
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => open.destroy(), options.timeoutMs);
        open.close(() => {
          clearTimeout(cut);
          resolve();
        });
      });
    },
  };
}
