import OpenAI from 'openai';

export interface ModerationResult {
  flagged: boolean;
  /** Moderation categories that crossed the line (e.g. "sexual", "violence/graphic"). */
  categories: string[];
  /** True when the service could not answer; the caller then relies on local rules. */
  unavailable?: boolean;
}

/** A second opinion on Santa's words. Implementations never throw: a failure resolves as `unavailable`. */
export interface ModerationChecker {
  check(text: string, signal?: AbortSignal): Promise<ModerationResult>;
}

export interface OpenAIModerationOptions {
  /** An existing client (shares its key, base URL and HTTP agent), or the key and URL to build one. */
  client?: OpenAI;
  apiKey?: string;
  baseURL?: string;
  model?: string;
  timeoutMs?: number;
  /** Per-category score limits, stricter than OpenAI's defaults because a young child is listening. */
  thresholds?: Record<string, number>;
  logger?: WarnLogger;
}

/** The one logger method this needs (a pino logger fits). */
export interface WarnLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

const CHILD_THRESHOLDS: Record<string, number> = {
  sexual: 0.2,
  'sexual/minors': 0.05,
  'violence/graphic': 0.3,
  'self-harm/instructions': 0.1,
  'self-harm/intent': 0.3,
  'harassment/threatening': 0.3,
  'hate/threatening': 0.3,
  'illicit/violent': 0.3,
};

/** The moderation endpoint through the official SDK; used only when an OpenAI key is set. */
export class OpenAIModerationChecker implements ModerationChecker {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly thresholds: Record<string, number>;
  private readonly logger: WarnLogger | undefined;

  constructor(options: OpenAIModerationOptions) {
    if (!options.client && !options.apiKey) throw new Error('OpenAIModerationChecker needs a client or an apiKey');
    this.client = options.client ?? new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0 });
    this.model = options.model ?? 'omni-moderation-latest';
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.thresholds = { ...CHILD_THRESHOLDS, ...options.thresholds };
    this.logger = options.logger;
  }

  async check(text: string, signal?: AbortSignal): Promise<ModerationResult> {
    if (!text.trim()) return { flagged: false, categories: [] };
    try {
      const response = await this.client.moderations.create(
        { model: this.model, input: text },
        { timeout: this.timeoutMs, maxRetries: 0, ...(signal ? { signal } : {}) },
      );
      const categories = new Set<string>();
      let flagged = false;
      for (const result of response.results) {
        flagged ||= result.flagged;
        for (const [name, on] of Object.entries(result.categories as unknown as Record<string, boolean | null>)) {
          if (on) categories.add(name);
        }
        for (const [name, score] of Object.entries(result.category_scores as unknown as Record<string, number>)) {
          const limit = this.thresholds[name];
          if (limit !== undefined && typeof score === 'number' && score >= limit) {
            flagged = true;
            categories.add(name);
          }
        }
      }
      return { flagged, categories: [...categories] };
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      this.logger?.warn(
        { status: typeof status === 'number' ? status : undefined, err: (error as Error).name },
        'moderation unavailable; local rules only',
      );
      return { flagged: false, categories: [], unavailable: true };
    }
  }
}
