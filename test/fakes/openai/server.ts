import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Locale } from '../../../shared/locales.js';
import { systemClock } from '../../../server/core/clock.js';
import { parseClientEvent, type RealtimeClientEvent } from '../../../server/realtime/events.js';
import { RealtimeProviderError } from '../../../server/realtime/provider.js';
import {
  DEFAULT_PACING,
  REALTIME_SERVICE,
  type ContextItem,
  type ConversationPacing,
} from '../../../server/realtime/simulated/santa-conversation.js';
import { SimulatedCall } from '../../../server/realtime/simulated/simulated-call.js';

export type FakeRoute = 'calls' | 'hangup' | 'sideband' | 'moderations';

export interface FakeFailure {
  /** HTTP status to answer with (429, 500, ...); omit to only delay. */
  status?: number;
  /** Wait this long before answering (or failing). */
  delayMs?: number;
  /** Retry-After header for a 429. */
  retryAfterSeconds?: number;
  /** How many requests this applies to (default 1). */
  times?: number;
}

export interface FakeOpenAIState {
  /** Every POST /v1/realtime/calls that passed auth, with its parsed session config. */
  callRequests: Array<{
    authorization: string | null;
    session: Record<string, unknown>;
    offerSdp: string;
    callId: string | null;
  }>;
  /** Authorization headers of every request, including refused ones. */
  authorizations: Array<{ route: FakeRoute; authorization: string | null }>;
  hangups: string[];
  sidebandConnections: Array<{ callId: string; authorization: string | null }>;
  sidebandClientEvents: Array<{ callId: string; event: RealtimeClientEvent }>;
  moderationRequests: Array<{ model: unknown; input: unknown }>;
  /** Calls still live, by id. */
  calls: Map<string, SimulatedCall>;
}

export interface FakePersona {
  language: Locale;
  childName: string;
  wishList: string[];
}

export interface FakeOpenAIOptions {
  apiKey?: string;
  pacing?: Partial<ConversationPacing>;
  persona?: Partial<FakePersona>;
  /**
   * As the service does (default): a response.create that comes before the browser is
   * connected starts at once, and its audio plays into a peer nobody hears yet. false holds it
   * until the data channel opens (Simulated Santa's courtesy, not the service's).
   */
  speakBeforeConnected?: boolean;
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:53111/v1 — pass as the SDK's baseURL. */
  baseURL: string;
  apiKey: string;
  state: FakeOpenAIState;
  /** Make the next request(s) to a route fail or stall. */
  fail(route: FakeRoute, failure: FakeFailure): void;
  /** Which texts moderation flags, and with which categories. */
  flagModeration(match: RegExp, categories: string[]): void;
  /** Who Simulated Santa (standing in for the model) greets in new calls, once asked to. */
  setPersona(persona: Partial<FakePersona>): void;
  /**
   * The child says `text` into the call's microphone: server VAD commits it, it is transcribed
   * if the session has transcription on (or fails to be, with `transcription: 'failed'`), and
   * Santa replies. Waits for the browser's audio to arrive first: no audio, no speech.
   */
  childSays(callId: string, text: string, options?: { transcription?: 'ok' | 'failed' }): Promise<void>;
  /** The conversation the model of a live call reads now. */
  context(callId: string): ContextItem[];
  /** The session a live call has now, as session.updated would report it. */
  session(callId: string): Record<string, unknown>;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function apiError(
  res: ServerResponse,
  status: number,
  type: string,
  code: string | null,
  message: string,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { type, code, message, param } }, headers);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A local stand-in for the OpenAI endpoints Call Santa uses, on 127.0.0.1 over plain HTTP:
 * POST /v1/realtime/calls (multipart sdp + session; answered by a Simulated Santa peer, so
 * real WebRTC and oai-events flow), the sideband WebSocket /v1/realtime?call_id=...,
 * POST /v1/realtime/calls/:id/hangup and POST /v1/moderations. It records what it was sent
 * and can be told to fail or stall.
 *
 * Like the real model, the fake never speaks first: Santa says nothing until a response.create
 * arrives (on the sideband or the data channel) or the child takes a turn, so a server that
 * forgets to ask for the greeting leaves the call silent here too.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? `sk-fake-${randomBytes(8).toString('hex')}`;
  const pacing: ConversationPacing = {
    ...DEFAULT_PACING,
    wordMs: 20,
    greetingDelayMs: 50,
    turnGapMs: null,
    replyDelayMs: 20,
    ...options.pacing,
  };
  let persona: FakePersona = { language: 'en', childName: 'friend', wishList: [], ...options.persona };
  const state: FakeOpenAIState = {
    callRequests: [],
    authorizations: [],
    hangups: [],
    sidebandConnections: [],
    sidebandClientEvents: [],
    moderationRequests: [],
    calls: new Map(),
  };
  const failures = new Map<FakeRoute, FakeFailure[]>();
  const moderationFlags: Array<{ match: RegExp; categories: string[] }> = [];
  const sockets = new Set<Socket>();
  const sidebands = new Set<WebSocket>();
  const ended = new Set<string>();

  /** Apply a queued failure; true when the request was answered with it. */
  async function injected(route: FakeRoute, res: ServerResponse | null): Promise<FakeFailure | null> {
    const queue = failures.get(route);
    const failure = queue?.[0];
    if (!failure) return null;
    failure.times = (failure.times ?? 1) - 1;
    if (failure.times <= 0) queue!.shift();
    if (failure.delayMs) await sleep(failure.delayMs);
    if (failure.status && res && !res.writableEnded) {
      const headers: Record<string, string> = failure.retryAfterSeconds
        ? { 'retry-after': String(failure.retryAfterSeconds) }
        : {};
      const type = failure.status === 429 ? 'rate_limit_exceeded' : 'server_error';
      apiError(res, failure.status, type, type, `Injected failure ${failure.status}`, null, headers);
    }
    return failure.status ? failure : null;
  }

  function authorized(route: FakeRoute, req: IncomingMessage): boolean {
    const authorization = req.headers.authorization ?? null;
    state.authorizations.push({ route, authorization });
    return authorization === `Bearer ${apiKey}`;
  }

  async function createCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized('calls', req))
      return apiError(res, 401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
    const body = await readBody(req);
    if (await injected('calls', res)) return;
    // The client gave up while we stalled: answer nobody, start nothing.
    if (res.destroyed || req.socket.destroyed) return;
    let offerSdp = '';
    let session: Record<string, unknown> = {};
    try {
      const form = await new Request('http://fake/v1/realtime/calls', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body: new Uint8Array(body),
      }).formData();
      offerSdp = String(form.get('sdp') ?? '');
      const rawSession = form.get('session');
      session = rawSession ? (JSON.parse(String(rawSession)) as Record<string, unknown>) : {};
    } catch {
      return apiError(
        res,
        400,
        'invalid_request_error',
        'invalid_multipart',
        'Expected multipart/form-data with sdp and session.',
      );
    }
    const record = {
      authorization: req.headers.authorization ?? null,
      session,
      offerSdp,
      callId: null as string | null,
    };
    state.callRequests.push(record);
    if (session.type !== 'realtime')
      return apiError(
        res,
        400,
        'invalid_request_error',
        'invalid_value',
        "session.type must be 'realtime'.",
        'session.type',
      );
    const id = `rtc_${randomBytes(16).toString('hex')}`;
    try {
      const call = await SimulatedCall.answer({
        id,
        offerSdp,
        language: persona.language,
        childName: persona.childName,
        wishList: persona.wishList,
        session,
        behaviour: { ...REALTIME_SERVICE, holdUntilOpen: !(options.speakBeforeConnected ?? true) },
        pacing,
        clock: systemClock,
        connectTimeoutMs: 30_000,
        loopbackOnly: true,
      });
      record.callId = id;
      state.calls.set(id, call);
      call.onEnded(() => {
        state.calls.delete(id);
        ended.add(id);
      });
      res.writeHead(201, { 'content-type': 'application/sdp', location: `/v1/realtime/calls/${id}` });
      res.end(call.answerSdp);
    } catch (error) {
      if (error instanceof RealtimeProviderError && error.code === 'invalid_sdp') {
        return apiError(res, 400, 'invalid_request_error', 'invalid_offer', 'The SDP offer is invalid.', 'sdp');
      }
      apiError(res, 500, 'server_error', null, 'The fake could not answer.');
    }
  }

  async function hangup(req: IncomingMessage, res: ServerResponse, callId: string): Promise<void> {
    if (!authorized('hangup', req))
      return apiError(res, 401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
    await readBody(req);
    state.hangups.push(callId);
    if (await injected('hangup', res)) return;
    const call = state.calls.get(callId);
    // A call that existed and is over is answered as the service does for a gone call id.
    if (!call && ended.has(callId))
      return apiError(
        res,
        400,
        'invalid_request_error',
        'call_id_not_found',
        'No session found for the provided call_id',
      );
    if (!call) return apiError(res, 404, 'invalid_request_error', 'call_not_found', 'No such call.');
    state.calls.delete(callId);
    await call.close('closed');
    res.writeHead(200);
    res.end();
  }

  async function moderate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized('moderations', req))
      return apiError(res, 401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { model?: unknown; input?: unknown };
    state.moderationRequests.push({ model: body.model, input: body.input });
    if (await injected('moderations', res)) return;
    const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
    sendJson(res, 200, {
      id: `modr-${randomBytes(6).toString('hex')}`,
      model: String(body.model ?? 'omni-moderation-latest'),
      results: inputs.map((text) => {
        const hits = moderationFlags.filter((f) => f.match.test(text)).flatMap((f) => f.categories);
        // Every category of omni-moderation-latest, so each threshold moderation.ts reads has its score.
        const names = [
          'sexual',
          'sexual/minors',
          'harassment',
          'harassment/threatening',
          'hate',
          'hate/threatening',
          'violence',
          'violence/graphic',
          'self-harm',
          'self-harm/intent',
          'self-harm/instructions',
          'illicit',
          'illicit/violent',
        ];
        return {
          flagged: hits.length > 0,
          categories: Object.fromEntries(names.map((n) => [n, hits.includes(n)])),
          category_scores: Object.fromEntries(names.map((n) => [n, hits.includes(n) ? 0.97 : 0.001])),
          category_applied_input_types: Object.fromEntries(names.map((n) => [n, ['text']])),
        };
      }),
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = async () => {
      if (req.method === 'POST' && url.pathname === '/v1/realtime/calls') return createCall(req, res);
      const hang = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/.exec(url.pathname);
      if (req.method === 'POST' && hang) return hangup(req, res, decodeURIComponent(hang[1]!));
      if (req.method === 'POST' && url.pathname === '/v1/moderations') return moderate(req, res);
      apiError(res, 404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${req.method} ${url.pathname}`);
    };
    route().catch(() => {
      if (!res.headersSent) apiError(res, 500, 'server_error', null, 'fake failure');
      else res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    (async () => {
      if (url.pathname !== '/v1/realtime') return reject(404, 'Not Found');
      if (!authorized('sideband', req)) return reject(401, 'Unauthorized');
      const failure = await injected('sideband', null);
      if (failure?.status) return reject(failure.status, 'Injected');
      const callId = url.searchParams.get('call_id') ?? '';
      const call = state.calls.get(callId);
      if (!call) return reject(404, 'Not Found');
      wss.handleUpgrade(req, socket, head, (ws) => {
        sidebands.add(ws);
        state.sidebandConnections.push({ callId, authorization: req.headers.authorization ?? null });
        const off = call.onServerEvent((event) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
        });
        const offEnd = call.onEnded(() => ws.close(1000, 'call ended'));
        ws.on('message', (data) => {
          const event = parseClientEvent(data.toString());
          if (!event) {
            ws.send(
              JSON.stringify({
                type: 'error',
                event_id: `event_${randomBytes(6).toString('hex')}`,
                error: {
                  type: 'invalid_request_error',
                  code: 'invalid_event',
                  message: 'Not a client event.',
                  param: null,
                },
              }),
            );
            return;
          }
          state.sidebandClientEvents.push({ callId, event });
          call.handleClientEvent(event);
        });
        ws.on('close', () => {
          off();
          offEnd();
          sidebands.delete(ws);
        });
      });
    })().catch(() => reject(500, 'Internal Server Error'));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    apiKey,
    state,
    fail(route, failure) {
      const queue = failures.get(route) ?? [];
      queue.push({ ...failure, times: failure.times ?? 1 });
      failures.set(route, queue);
    },
    flagModeration(match, categories) {
      moderationFlags.push({ match, categories });
    },
    setPersona(next) {
      persona = { ...persona, ...next };
    },
    async childSays(callId, text, sayOptions = {}) {
      const call = state.calls.get(callId);
      if (!call) throw new Error(`fake openai: no live call ${callId}`);
      const deadline = Date.now() + 10_000;
      while (call.audioPacketsReceived === 0) {
        if (Date.now() > deadline || call.isEnded)
          throw new Error('fake openai: no audio from the browser, so the child cannot have spoken');
        await sleep(10);
      }
      call.childSpoke(text, sayOptions);
    },
    context(callId) {
      const call = state.calls.get(callId);
      if (!call) throw new Error(`fake openai: no live call ${callId}`);
      return call.context();
    },
    session(callId) {
      const call = state.calls.get(callId);
      if (!call) throw new Error(`fake openai: no live call ${callId}`);
      return call.session();
    },
    async close() {
      await Promise.all([...state.calls.values()].map((call) => call.close('closed')));
      state.calls.clear();
      for (const ws of sidebands) ws.terminate();
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
