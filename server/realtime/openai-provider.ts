import net from 'node:net';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { ClientOptions as WebSocketClientOptions } from 'ws';
import type { Logger } from '../core/logger.js';
import { ControlChannel } from './control-channel.js';
import { parseServerEvent } from './events.js';
import { buildRealtimeSession } from './openai-session.js';
import {
  RealtimeProviderError,
  type ExpectedSession,
  type RealtimeProvider,
  type ResumedCall,
  type SantaSessionConfig,
  type StartedCall,
} from './provider.js';

export interface OpenAIRealtimeProviderOptions {
  apiKey: string;
  /** Default https://api.openai.com/v1. Plain http is accepted for loopback only (local fakes). */
  baseURL?: string;
  /** Default gpt-realtime-mini. */
  model?: string;
  /** Used when the session carries no voice. Default "sage". */
  voice?: string;
  /** Default gpt-4o-mini-transcribe. */
  transcriptionModel?: string;
  /** Limit for creating the call and, separately, for opening its sideband. Default 10 s. */
  timeoutMs?: number;
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const CALL_ID = /^[A-Za-z0-9_-]{1,200}$/;
/** Waits between sideband attempts refused with 404 or 5xx; all inside the sideband's time limit. */
const SIDEBAND_RETRY_MS = [200, 500, 1000];

/**
 * The OpenAI Realtime API (GA) over WebRTC. The browser's offer goes to POST
 * /realtime/calls with the session config; the answer and the call id (Location header)
 * come back; the server then joins the same call on the sideband WebSocket
 * (/realtime?call_id=...) through the SDK's OpenAIRealtimeWS, and hangs up with
 * client.realtime.calls.hangup. Logs carry ids and status codes only: never SDP,
 * instructions or transcripts.
 */
export class OpenAIRealtimeProvider implements RealtimeProvider {
  readonly kind = 'openai' as const;
  private readonly client: OpenAI;
  private readonly baseURL: string;
  private readonly model: string;
  private readonly voice: string;
  private readonly transcriptionModel: string;
  private readonly timeoutMs: number;
  private readonly logger: OpenAIRealtimeProviderOptions['logger'];
  private readonly fetchImpl: typeof fetch;
  private readonly plainLoopback: { host: string; port: number } | null;
  private readonly sidebands = new Map<string, ControlChannel>();

  constructor(private readonly options: OpenAIRealtimeProviderOptions) {
    if (!options.apiKey) throw new Error('OpenAIRealtimeProvider needs an API key');
    this.baseURL = (options.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    const url = new URL(this.baseURL);
    if (url.protocol === 'http:') {
      // The key would travel in clear text: only a fake on this machine may be plain http.
      if (!LOOPBACK_HOSTS.has(url.hostname))
        throw new Error('OPENAI_BASE_URL must be https unless it is a loopback address');
      this.plainLoopback = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
    } else if (url.protocol === 'https:') {
      this.plainLoopback = null;
    } else {
      throw new Error('OPENAI_BASE_URL must be an http(s) URL');
    }
    this.model = options.model ?? 'gpt-realtime-mini';
    this.voice = options.voice ?? 'sage';
    this.transcriptionModel = options.transcriptionModel ?? 'gpt-4o-mini-transcribe';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.logger = options.logger;
    this.fetchImpl = options.fetch ?? fetch;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: this.baseURL,
      timeout: this.timeoutMs,
      maxRetries: 2,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async startCall(offerSdp: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<StartedCall> {
    if (!offerSdp.startsWith('v=0')) throw new RealtimeProviderError('invalid_sdp', 'Not an SDP offer');
    const { providerCallId, answerSdp } = await this.createCall(offerSdp, session, signal);
    try {
      const control = await this.openSideband(providerCallId, signal);
      return { providerCallId, answerSdp, control, session: this.expectedSession(session) };
    } catch (error) {
      // A call nobody controls would run (and bill) until OpenAI times it out.
      await this.hangup(providerCallId).catch((e: unknown) =>
        this.logger.warn(
          { providerCallId, code: (e as RealtimeProviderError).code },
          'hang-up after a failed sideband also failed',
        ),
      );
      throw error;
    }
  }

  /**
   * Another process started the call and is gone: join it again on a new sideband by its call
   * id (the service takes any number of sideband connections to one call). Nothing is hung up
   * when this fails: the caller decides.
   */
  async resumeCall(providerCallId: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<ResumedCall> {
    if (!CALL_ID.test(providerCallId)) throw new RealtimeProviderError('provider_unavailable', 'Not a call id');
    const control = await this.openSideband(providerCallId, signal);
    this.logger.info({ providerCallId }, 'realtime call taken over');
    return { control, session: this.expectedSession(session) };
  }

  /** What session.updated must keep saying for this call (the session we created it with). */
  private expectedSession(session: SantaSessionConfig): ExpectedSession {
    return {
      instructions: session.instructions,
      voice: session.voice || this.voice,
      outputModalities: ['audio'],
      transcriptionModel: this.transcriptionModel,
      transcriptionLanguage: session.language,
    };
  }

  private async createCall(
    offerSdp: string,
    session: SantaSessionConfig,
    signal?: AbortSignal,
  ): Promise<{ providerCallId: string; answerSdp: string }> {
    const form = new FormData();
    form.set('sdp', offerSdp);
    form.set(
      'session',
      JSON.stringify(
        buildRealtimeSession(session, {
          model: this.model,
          voice: this.voice,
          transcriptionModel: this.transcriptionModel,
        }),
      ),
    );
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const started = Date.now();
    try {
      const response = await this.fetchImpl(`${this.baseURL}/realtime/calls`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.options.apiKey}`, Accept: 'application/sdp' },
        body: form,
        signal: combined,
      });
      if (!response.ok) throw await this.httpError(response);
      const location = response.headers.get('location') ?? '';
      const providerCallId = decodeURIComponent(location.split('?')[0]!.replace(/\/+$/, '').split('/').pop() ?? '');
      const answerSdp = await response.text();
      if (!CALL_ID.test(providerCallId)) {
        throw new RealtimeProviderError('provider_unavailable', 'The provider returned no usable call id', {
          status: response.status,
        });
      }
      if (!answerSdp.startsWith('v=0')) {
        await this.hangup(providerCallId).catch(() => undefined);
        throw new RealtimeProviderError('provider_unavailable', 'The provider returned no SDP answer', {
          status: response.status,
        });
      }
      this.logger.info({ providerCallId, status: response.status, ms: Date.now() - started }, 'realtime call created');
      return { providerCallId, answerSdp };
    } catch (error) {
      if (error instanceof RealtimeProviderError) throw error;
      if (signal?.aborted) throw new RealtimeProviderError('aborted', 'The call start was aborted', { cause: error });
      if (timeout.aborted)
        throw new RealtimeProviderError('timeout', `The provider did not answer within ${this.timeoutMs} ms`, {
          cause: error,
        });
      this.logger.warn({ err: (error as Error).name }, 'realtime call creation failed');
      throw new RealtimeProviderError('provider_unavailable', 'The provider could not be reached', { cause: error });
    }
  }

  private async httpError(response: Response): Promise<RealtimeProviderError> {
    const status = response.status;
    let code: string | undefined;
    let param: string | undefined;
    let type: string | undefined;
    try {
      const body = (await response.json()) as { error?: { code?: unknown; param?: unknown; type?: unknown } };
      code = typeof body.error?.code === 'string' ? body.error.code : undefined;
      param = typeof body.error?.param === 'string' ? body.error.param : undefined;
      type = typeof body.error?.type === 'string' ? body.error.type : undefined;
    } catch {
      // Not JSON: the status says enough.
    }
    this.logger.warn({ status, code, type }, 'realtime call refused');
    if (status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return new RealtimeProviderError('rate_limited', 'The provider is rate limiting calls', {
        status,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    if (status === 401 || status === 403)
      return new RealtimeProviderError('unauthorized', 'The provider refused the API key', { status });
    if ((status === 400 || status === 422) && (param === 'sdp' || /sdp|offer/i.test(code ?? ''))) {
      return new RealtimeProviderError('invalid_sdp', 'The provider refused the SDP offer', { status });
    }
    if (status === 408 || status === 504)
      return new RealtimeProviderError('timeout', 'The provider timed out', { status });
    return new RealtimeProviderError('provider_unavailable', `The provider answered ${status}`, { status });
  }

  /** The SDK hard-codes wss://; for a plain-http loopback fake the same URL is spoken over plain TCP. */
  private socketOptions(): WebSocketClientOptions {
    const options: WebSocketClientOptions = { handshakeTimeout: this.timeoutMs };
    const target = this.plainLoopback;
    if (target) {
      options.createConnection = (() =>
        net.connect({ host: target.host, port: target.port })) as unknown as WebSocketClientOptions['createConnection'];
    }
    return options;
  }

  /**
   * Join the call on the sideband. Right after POST /realtime/calls the service may not know
   * the call id on the WebSocket side yet (404 call_id_not_found) or answer a passing 5xx:
   * those are retried a few times, briefly, inside the same time limit, before the call fails.
   * A refused key or a rate limit is not retried.
   */
  private async openSideband(providerCallId: string, signal?: AbortSignal): Promise<ControlChannel> {
    const deadline = Date.now() + this.timeoutMs;
    let attempt = 0;
    for (;;) {
      try {
        return await this.connectSideband(providerCallId, Math.max(1, deadline - Date.now()), signal);
      } catch (error) {
        const status = error instanceof RealtimeProviderError ? error.status : undefined;
        const retryable = status === 404 || (status !== undefined && status >= 500);
        const wait = SIDEBAND_RETRY_MS[attempt++];
        if (!retryable || wait === undefined || signal?.aborted || Date.now() + wait >= deadline) throw error;
        this.logger.info({ providerCallId, status, attempt }, 'realtime sideband refused; trying again');
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (signal?.aborted) throw new RealtimeProviderError('aborted', 'The call start was aborted');
      }
    }
  }

  private async connectSideband(
    providerCallId: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ControlChannel> {
    const rt = await OpenAIRealtimeWS.create(this.client, {
      callID: providerCallId,
      options: { ...this.socketOptions(), handshakeTimeout: timeoutMs },
    });
    const socket = rt.socket;
    let failure: 'error' | null = null;
    // Without an 'error' listener the SDK turns every error into an unhandled rejection. An
    // `error` event of the protocol (response_cancel_not_active, say) answers one client
    // event; it is not a failure of the sideband: only the socket's own errors are.
    rt.on('error', (error) => {
      this.logger.debug({ providerCallId, code: error.error?.code ?? undefined }, 'realtime sideband error');
    });

    await new Promise<void>((resolve, reject) => {
      const fail = (
        code: 'timeout' | 'aborted' | 'rate_limited' | 'provider_unavailable',
        message: string,
        status?: number,
      ) => {
        cleanup();
        try {
          socket.terminate();
        } catch {
          // Already gone.
        }
        reject(new RealtimeProviderError(code, message, status === undefined ? {} : { status }));
      };
      const timer = setTimeout(
        () => fail('timeout', `The sideband did not open within ${this.timeoutMs} ms`),
        timeoutMs,
      );
      const onOpen = () => {
        cleanup();
        resolve();
      };
      const onError = () => fail('provider_unavailable', 'The sideband could not be opened');
      const onUnexpected = (_req: unknown, res: { statusCode?: number }) =>
        fail(
          res.statusCode === 429 ? 'rate_limited' : 'provider_unavailable',
          `The sideband was refused (${res.statusCode ?? 'no status'})`,
          res.statusCode,
        );
      const onAbort = () => fail('aborted', 'The call start was aborted');
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('open', onOpen);
        socket.off('error', onError);
        socket.off('unexpected-response', onUnexpected);
        signal?.removeEventListener('abort', onAbort);
      };
      socket.once('open', onOpen);
      socket.once('error', onError);
      socket.once('unexpected-response', onUnexpected);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });

    // Forgotten at once when closed here, not at the socket's close event: a drain that hands
    // its calls over closes their sidebands and then the provider, which must not hang them up.
    const forget = () => {
      if (this.sidebands.get(providerCallId) === control) this.sidebands.delete(providerCallId);
    };
    const control: ControlChannel = new ControlChannel(
      (event) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
        else this.logger.debug({ providerCallId, type: event.type }, 'sideband not open; client event dropped');
      },
      () => {
        forget();
        rt.close({ code: 1000, reason: 'done' });
      },
      (error) => this.logger.warn({ providerCallId, err: (error as Error).name }, 'a control listener threw'),
    );
    rt.on('event', (raw) => {
      const event = parseServerEvent(raw);
      if (event) control.emit(event);
    });
    socket.on('close', (code) => {
      forget();
      this.logger.info({ providerCallId, code }, 'realtime sideband closed');
      control.markClosed(failure === 'error' || (code !== 1000 && code !== 1005) ? 'error' : 'closed');
    });
    socket.on('error', () => {
      failure = 'error';
    });
    this.sidebands.set(providerCallId, control);
    this.logger.info({ providerCallId }, 'realtime sideband open');
    return control;
  }

  async hangup(providerCallId: string): Promise<void> {
    this.sidebands.get(providerCallId)?.close();
    this.sidebands.delete(providerCallId);
    try {
      await this.client.realtime.calls.hangup(providerCallId, { timeout: this.timeoutMs });
      this.logger.info({ providerCallId }, 'realtime call hung up');
    } catch (error) {
      const status = error instanceof OpenAI.APIError ? error.status : undefined;
      const code = error instanceof OpenAI.APIError ? error.code : undefined;
      // Already over (ended by the child, by OpenAI, or by an earlier hang-up): the hang-up is
      // done. The service says so with 404, 410, or 400 call_id_not_found.
      if (status === 404 || status === 410 || (status === 400 && code === 'call_id_not_found')) {
        this.logger.info({ providerCallId, status }, 'realtime call was already over');
        return;
      }
      this.logger.warn({ providerCallId, status }, 'realtime hang-up failed');
      if (status === 429)
        throw new RealtimeProviderError('rate_limited', 'Hang-up rate limited', { status, cause: error });
      if (status === 401 || status === 403)
        throw new RealtimeProviderError('unauthorized', 'Hang-up refused', { status, cause: error });
      if (error instanceof OpenAI.APIConnectionTimeoutError)
        throw new RealtimeProviderError('timeout', 'Hang-up timed out', { cause: error });
      throw new RealtimeProviderError('provider_unavailable', 'Hang-up failed', {
        ...(status ? { status } : {}),
        cause: error,
      });
    }
  }

  /** Hang up every call that still has a sideband here, and close the sidebands. */
  async close(): Promise<void> {
    const ids = [...this.sidebands.keys()];
    await Promise.all(ids.map((id) => this.hangup(id).catch(() => undefined)));
  }
}
