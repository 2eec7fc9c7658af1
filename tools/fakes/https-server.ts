// An HTTPS server on 127.0.0.1 with the fakes' self-signed certificate, for providers reached at URLs
// users give (Discord and Teams webhooks): Herald's outbound policy requires https for those.
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from './tls.js';

export interface Reply {
  status: number;
  /** An object is sent as JSON, a string as it is, nothing as an empty body. */
  body?: object | string;
  headers?: Record<string, string>;
}

export interface HttpsFakeServer {
  origin: string;
  /** The certificate (PEM), to trust as a CA (ChannelContext.ca, NODE_EXTRA_CA_CERTS). */
  ca: string;
  stop(): Promise<void>;
}

/** Calls `answer` with each request's whole body and the time it arrived. */
export async function startHttpsFakeServer(
  answer: (req: http.IncomingMessage, body: string, at: number) => Reply,
): Promise<HttpsFakeServer> {
  const { key, cert } = await selfSignedCertificate();
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = answer(req, Buffer.concat(chunks).toString('utf8'), Date.now());
      const json = typeof reply.body === 'object';
      res.writeHead(reply.status, {
        ...(reply.body !== undefined && {
          'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
        }),
        ...reply.headers,
      });
      res.end(reply.body === undefined ? '' : json ? JSON.stringify(reply.body) : reply.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca: cert,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
