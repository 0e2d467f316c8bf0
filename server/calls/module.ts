import type { Config } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { RealtimeProvider } from '../realtime/provider.js';
import { SimulatedSantaProvider } from '../realtime/simulated-santa.js';
import { OpenAIRealtimeProvider } from '../realtime/openai-provider.js';
import { OpenAIModerationChecker, type ModerationChecker } from '../santa/guardrail.js';
import { createCallGuard } from './guard.js';
import { CallsService, DEFAULT_CALL_TUNING, type CallsDeps } from './service.js';

/**
 * The realtime provider the configuration asks for: OpenAI when OPENAI_API_KEY is set,
 * otherwise Simulated Santa on this machine (the embedded default, no network).
 */
export function chooseRealtimeProvider(config: Config, clock: Clock, logger: Logger): RealtimeProvider {
  if (config.openai.apiKey) return createOpenAIProvider(config, logger);
  return new SimulatedSantaProvider({ clock, logger });
}

function createOpenAIProvider(config: Config, logger: Logger): RealtimeProvider {
  return new OpenAIRealtimeProvider({
    apiKey: config.openai.apiKey ?? '',
    baseURL: config.openai.baseUrl,
    model: config.openai.model,
    voice: config.openai.voice,
    logger,
  });
}

/** What the service needs, less what this module derives from the config (guardrail, options). */
export type CallsModuleDeps = Omit<CallsDeps, 'guard' | 'options'> & {
  config: Config;
  /** Other processes serve the same store (REDIS_URL): a shutdown hands calls over. */
  clustered: boolean;
};

/** The calls service with its guardrail: moderation joins the local rules when an OpenAI key is set. */
export function createCallsService(deps: CallsModuleDeps): CallsService {
  const { config, logger } = deps;
  const moderation: ModerationChecker | null = config.openai.apiKey
    ? new OpenAIModerationChecker({ apiKey: config.openai.apiKey, baseURL: config.openai.baseUrl, logger })
    : null;
  return new CallsService({
    store: deps.store,
    clock: deps.clock,
    logger,
    credits: deps.credits,
    consent: deps.consent,
    accounts: deps.accounts,
    profiles: deps.profiles,
    notifier: deps.notifier,
    provider: deps.provider,
    processId: deps.processId,
    ...(deps.peers ? { peers: deps.peers } : {}),
    guard: (language) => createCallGuard(language, moderation, logger),
    options: {
      minCallSeconds: config.minCallSeconds,
      maxCallSeconds: config.maxCallSeconds,
      callGraceSeconds: config.callGraceSeconds,
      checkpointSeconds: config.callCheckpointSeconds,
      voice: config.openai.voice,
      maxOutputTokens: DEFAULT_CALL_TUNING.maxOutputTokens,
      providerTimeoutMs: DEFAULT_CALL_TUNING.providerTimeoutMs,
      wrapUpSeconds: DEFAULT_CALL_TUNING.wrapUpSeconds,
      leaseSeconds: config.callLeaseSeconds,
      leaseWatchMs: config.callLeaseWatchMs,
      handOverOnShutdown: deps.clustered,
    },
  });
}
