// A self-signed certificate for 127.0.0.1, for the fakes that speak HTTPS or HTTP/2 (Web Push, FCM, APNs,
// Discord and Teams webhooks): made once per process with the openssl CLI; clients trust it as a CA.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

let certificate: Promise<{ key: string; cert: string }> | undefined;

export function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  return (certificate ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-fake-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })());
}
