import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { startTestServer, tempDataDir, type TestServer } from './support/server.js';

let server: TestServer;
let port: number;
beforeAll(async () => {
  const dir = tempDataDir('callsanta-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  server = await startTestServer({ env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key } });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
});

function handshake(maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion, minVersion: 'TLSv1.2' },
      () => {
        const protocol = socket.getProtocol() ?? 'none';
        socket.end();
        resolve(protocol);
      },
    );
    socket.on('error', reject);
  });
}

describe('encryption in transit (P16)', () => {
  it('speaks TLS 1.3 when a certificate is configured', async () => {
    expect(await handshake('TLSv1.3')).toBe('TLSv1.3');
  });

  it('refuses TLS 1.2 and older', async () => {
    await expect(handshake('TLSv1.2')).rejects.toThrow();
  });
});
