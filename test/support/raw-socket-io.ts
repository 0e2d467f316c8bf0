import WebSocket from 'ws';

export type Frame = string | Buffer;

/**
 * engine.io v4 and socket.io v5 spoken by hand over one WebSocket, so a test can send frames
 * no socket.io client would ever build (`42`, `451-` and an empty attachment, junk). It answers
 * the server's pings, as a client must, and keeps every frame the server sent.
 */
export class RawSocketIo {
  private readonly received: Frame[] = [];
  private waiters: { test: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<number>;
  private isClosed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame: Frame = isBinary ? data : data.toString('utf8');
      if (frame === '2') ws.send('3'); // engine.io ping -> pong
      this.received.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number) => {
        this.isClosed = true;
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
  }

  /** Opens the WebSocket transport and, with a token, connects the main namespace as our client does. */
  static async open(baseUrl: string, token?: string): Promise<RawSocketIo> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url);
    const raw = new RawSocketIo(ws);
    // Waiting from before the upgrade: the open packet may arrive in the same read as the upgrade answer.
    const opened = raw.next((f) => typeof f === 'string' && f.startsWith('0{'));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await opened;
    if (token !== undefined) {
      raw.send(`40${JSON.stringify({ token })}`);
      const answer = await raw.next((f) => typeof f === 'string' && (f.startsWith('40') || f.startsWith('44')));
      if (typeof answer !== 'string' || !answer.includes('"sid"'))
        throw new Error(`namespace connect refused: ${String(answer)}`);
    }
    return raw;
  }

  get open(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /** The next frame (from now on) that passes test; rejects after timeoutMs or when the socket closes. */
  next(test: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such frame in time')), timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ test, resolve: done });
      void this.closed.then(() => {
        clearTimeout(timer);
        reject(new Error('socket closed'));
      });
    });
  }

  /**
   * A well-formed event with an ack id; resolves with the ack's first argument, or 'closed' when
   * the server closed the connection instead (what it does with a frame it cannot decode).
   */
  async ack(event: string, payload: unknown, id: number): Promise<unknown> {
    const answer = this.next((f) => typeof f === 'string' && f.startsWith(`43${id}[`));
    this.send(`42${id}${JSON.stringify([event, payload])}`);
    try {
      const frame = (await answer) as string;
      return (JSON.parse(frame.slice(`43${id}`.length)) as unknown[])[0];
    } catch (err) {
      if (!this.open) return 'closed';
      throw err;
    }
  }

  close(): void {
    this.ws.close();
  }
}
