// Requests to the phone providers' HTTP/1.1 endpoints (FCM, Google's token endpoint) over node:http(s),
// with keep-alive and an extra CA for local or private endpoints: Node 20's fetch takes no CA.
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpClient {
  /** `signal` stops the request where it is (the delivery attempt's, when it has one). */
  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpAnswer>;
  close(): void;
}

/** Error bodies are a few hundred bytes; a provider sending megabytes is not read to the end. */
const MAX_BODY_BYTES = 64 * 1024;

export function createHttpClient(options: { ca?: string | Buffer; timeoutMs: number }): HttpClient {
  const httpsAgent = new https.Agent({ keepAlive: true, ...(options.ca && { ca: options.ca }) });
  const httpAgent = new http.Agent({ keepAlive: true });
  return {
    post(url, headers, body, signal) {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = secure ? https.request : http.request;
      return new Promise<HttpAnswer>((resolve, reject) => {
        const req = request(
          target,
          {
            method: 'POST',
            agent: secure ? httpsAgent : httpAgent,
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
            signal,
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size <= MAX_BODY_BYTES) chunks.push(chunk);
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        // Idle time on the socket; the attempt's signal bounds the whole request.
        req.setTimeout(options.timeoutMs, () =>
          req.destroy(Object.assign(new Error('the request timed out'), { code: 'ETIMEDOUT' })),
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}
