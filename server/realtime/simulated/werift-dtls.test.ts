import { afterEach, describe, expect, it } from 'vitest';
import { DtlsClient, DtlsServer, RTCDtlsTransport, type Transport } from 'werift';

/**
 * Simulated Santa's peer (and the OpenAI fake's) answers the browser's offer, so werift is the
 * DTLS client of the call. A slow answer to its ClientHello (half a second is enough: a busy
 * event loop, a loaded machine) makes it send the ClientHello again, and the server answers
 * both with a HelloVerifyRequest. werift 0.24 failed the connection on the second one;
 * scripts/patch-deps.mjs (npm's postinstall) fixes that until werift does.
 */

const HANDSHAKE = 22;
const HELLO_VERIFY_REQUEST = 3;

/** A datagram link between the two ends that delivers each message on a later turn, as a socket would. */
function link(options: { repeatHelloVerifyRequest: boolean }): { client: Transport; server: Transport } {
  let repeated = false;
  const end = (deliver: (data: Buffer) => void): Transport => ({
    type: 'udp',
    address: { address: '127.0.0.1', family: 'IPv4', port: 0 },
    closed: false,
    onData: () => undefined,
    send: async (data) => deliver(Buffer.from(data)),
    close: async () => undefined,
  });
  const client = end((data) => setImmediate(() => server.onData(data, ['127.0.0.1', 0])));
  const server = end((data) => {
    const isHelloVerifyRequest = data[0] === HANDSHAKE && data[13] === HELLO_VERIFY_REQUEST;
    const times = isHelloVerifyRequest && options.repeatHelloVerifyRequest && !repeated ? 2 : 1;
    if (times === 2) repeated = true;
    for (let i = 0; i < times; i++) setImmediate(() => client.onData(data, ['127.0.0.1', 0]));
  });
  return { client, server };
}

const sockets: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function handshake(repeatHelloVerifyRequest: boolean): Promise<'connected' | Error> {
  const cert = await RTCDtlsTransport.SetupCertificate();
  const keys = { cert: cert.certPem, key: cert.privateKey, signatureHash: cert.signatureHash };
  const wire = link({ repeatHelloVerifyRequest });
  const server = new DtlsServer({
    ...keys,
    transport: wire.server,
    certificateRequest: true,
    extendedMasterSecret: true,
  });
  const client = new DtlsClient({ ...keys, transport: wire.client, extendedMasterSecret: true });
  sockets.push(server, client);
  return new Promise((resolve) => {
    client.onConnect.once(() => resolve('connected'));
    client.onError.once((error) => resolve(error));
    void client.connect().catch((error: Error) => resolve(error));
  });
}

describe("Simulated Santa's DTLS handshake (werift as the client)", () => {
  it('connects when the server answers its hello once', async () => {
    expect(await handshake(false)).toBe('connected');
  });

  it('still connects when the server answers a repeated hello twice (two HelloVerifyRequests)', async () => {
    expect(await handshake(true)).toBe('connected');
  });
});
