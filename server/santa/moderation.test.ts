import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai/server.js';
import { OpenAIModerationChecker } from './moderation.js';

let fake: FakeOpenAI | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

describe('OpenAIModerationChecker (real SDK against the local fake)', () => {
  it('reports flagged categories and sends the text with the moderation model', async () => {
    fake = await startFakeOpenAI();
    fake.flagModeration(/scary monster/, ['violence/graphic']);
    const checker = new OpenAIModerationChecker({ apiKey: fake.apiKey, baseURL: fake.baseURL });
    await expect(checker.check('A scary monster story.')).resolves.toEqual({
      flagged: true,
      categories: ['violence/graphic'],
    });
    await expect(checker.check('A snowman story.')).resolves.toEqual({ flagged: false, categories: [] });
    expect(fake.state.moderationRequests).toEqual([
      { model: 'omni-moderation-latest', input: 'A scary monster story.' },
      { model: 'omni-moderation-latest', input: 'A snowman story.' },
    ]);
  });

  it('never throws: errors and timeouts resolve as unavailable', async () => {
    fake = await startFakeOpenAI();
    const warnings: unknown[] = [];
    const checker = new OpenAIModerationChecker({
      apiKey: fake.apiKey,
      baseURL: fake.baseURL,
      timeoutMs: 200,
      logger: { warn: (details) => warnings.push(details) },
    });
    fake.fail('moderations', { status: 500 });
    await expect(checker.check('hello')).resolves.toEqual({ flagged: false, categories: [], unavailable: true });
    fake.fail('moderations', { delayMs: 1500 });
    await expect(checker.check('hello again')).resolves.toEqual({ flagged: false, categories: [], unavailable: true });
    const wrongKey = new OpenAIModerationChecker({ apiKey: 'sk-wrong', baseURL: fake.baseURL });
    await expect(wrongKey.check('hello')).resolves.toMatchObject({ unavailable: true });
    expect(warnings).toHaveLength(2);
  });
});
