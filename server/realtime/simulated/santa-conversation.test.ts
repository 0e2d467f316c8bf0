import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { SANTA_LINES } from '../../santa/persona.js';
import type { OutputAudioTranscriptDoneEvent, RealtimeServerEvent, ResponseDoneEvent } from '../events.js';
import { REALTIME_SERVICE, SantaConversation, type ConversationPacing } from './santa-conversation.js';
import { SantaScript } from './santa-script.js';

/**
 * Simulated Santa's side of oai-events on a fake clock, without WebRTC: who speaks first,
 * and when a response asked for before the data channel opened begins.
 */
const PACING: ConversationPacing = { wordMs: 10, greetingDelayMs: 500, turnGapMs: 200, replyDelayMs: 50 };

function conversation(wishList: string[] = []) {
  const clock = new FakeClock();
  const events: RealtimeServerEvent[] = [];
  const voices: string[] = [];
  const script = new SantaScript({ language: 'en', childName: 'Emma', wishList });
  const convo = new SantaConversation(
    script,
    clock,
    PACING,
    { emit: (e) => events.push(e), voice: (m) => voices.push(m) },
    { model: 'test' },
  );
  const of = (type: string) => events.filter((e) => e.type === type);
  const lines = () =>
    (of('response.output_audio_transcript.done') as OutputAudioTranscriptDoneEvent[]).map((e) => e.transcript);
  return { clock, events, voices, convo, of, lines };
}

const childSays = (text: string) => ({
  type: 'conversation.item.create',
  item: { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] },
});

describe("Simulated Santa's conversation", () => {
  it('never speaks first: with the channel open and time passing, nothing until a response.create', () => {
    const { clock, convo, of, voices } = conversation(['a red kite']);
    convo.open();
    clock.advance(60_000); // many greeting delays and turn gaps
    expect(of('session.created')).toHaveLength(1);
    expect(of('response.created')).toEqual([]);
    expect(voices).toEqual([]);
  });

  it('greets on the first response.create, then goes on with the script', () => {
    const { clock, convo, lines } = conversation(['a red kite']);
    convo.open();
    convo.handle({ type: 'response.create' });
    clock.advance(5000);
    expect(lines()[0]).toBe(SANTA_LINES.en.greeting('Emma'));
    // Once he has spoken, he keeps the conversation going on his own (he cannot hear audio).
    expect(lines()[1]).toBe(SANTA_LINES.en.wish('a red kite'));
  });

  it('holds a response.create sent before the data channel opened until it opens, then greets after the jingle', () => {
    const { clock, convo, of, lines } = conversation();
    convo.handle({ type: 'response.create' });
    clock.advance(10_000);
    expect(of('response.created')).toEqual([]);
    convo.open();
    clock.advance(PACING.greetingDelayMs - 1);
    expect(of('response.created')).toEqual([]);
    clock.advance(1);
    expect(of('response.created')).toHaveLength(1);
    clock.advance(2000);
    expect(lines()).toContain(SANTA_LINES.en.greeting('Emma'));
    // A second early request while the first one waits is refused, as with a response in progress.
    const again = conversation();
    again.convo.handle({ type: 'response.create' });
    again.convo.handle({ type: 'response.create', event_id: 'evt-2' });
    expect(again.of('error')).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ code: 'conversation_already_has_active_response', event_id: 'evt-2' }),
      }),
    ]);
  });

  it('when the child speaks before the requested greeting began, it begins and is interrupted at once, then Santa replies', () => {
    const { clock, convo, of, lines } = conversation();
    convo.handle({ type: 'response.create' });
    convo.open();
    convo.handle(childSays('Are you a robot?'));
    const done = of('response.done') as ResponseDoneEvent[];
    expect(of('response.created')).toHaveLength(1);
    expect(done.map((d) => [d.response.status, d.response.status_details?.reason])).toEqual([
      ['cancelled', 'turn_detected'],
    ]);
    clock.advance(PACING.greetingDelayMs + 5000);
    expect(lines().slice(0, 2)).toEqual(['', SANTA_LINES.en.areYouReal]);
    // The held request was used up: no greeting turns up later.
    expect(lines().filter((l) => l === SANTA_LINES.en.greeting('Emma'))).toEqual([]);
  });

  it('close() drops a request still waiting for the channel', () => {
    const { clock, convo, of } = conversation();
    convo.handle({ type: 'response.create' });
    convo.open();
    convo.close();
    clock.advance(10_000);
    expect(of('response.created')).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the conversation behaves like the Realtime service over time (REALTIME_SERVICE)', () => {
  function service(session: Record<string, unknown> = { audio: { input: { transcription: { model: 'm' } } } }) {
    const clock = new FakeClock();
    const events: RealtimeServerEvent[] = [];
    const script = new SantaScript({ language: 'en', childName: 'Emma', wishList: [] });
    const convo = new SantaConversation(
      script,
      clock,
      { ...PACING, turnGapMs: null, generationRatio: 0.25 },
      { emit: (e) => events.push(e), voice: () => undefined },
      session,
      REALTIME_SERVICE,
    );
    const types = () => events.map((e) => e.type);
    const of = (type: string) => events.filter((e) => e.type === type);
    return { clock, events, convo, types, of };
  }

  it('ends generation (response.done) before playback (output_audio_buffer.stopped)', () => {
    const { clock, convo, of, types } = service();
    convo.handle({ type: 'response.create' }); // before open: the service starts at once
    const words = SANTA_LINES.en.greeting('Emma').split(/\s+/).length;
    clock.advance((words + 2) * Math.round(PACING.wordMs * 0.25));
    expect(of('response.done')).toHaveLength(1);
    expect(of('output_audio_buffer.stopped')).toEqual([]);
    expect(convo.playing).toBe(true);
    // Generation is over: cancelling now is the service's response_cancel_not_active.
    convo.handle({ type: 'response.cancel' });
    expect(of('error').map((e) => (e as { error: { code: string } }).error.code)).toEqual([
      'response_cancel_not_active',
    ]);
    clock.advance(words * PACING.wordMs);
    expect(of('output_audio_buffer.stopped')).toHaveLength(1);
    expect(types().indexOf('response.done')).toBeLessThan(types().indexOf('output_audio_buffer.stopped'));
  });

  it('keeps the stopped words in the model’s conversation until they are truncated or deleted', () => {
    const { clock, convo, of } = service();
    convo.handle({ type: 'response.create' });
    clock.advance(PACING.wordMs * 0.25 * 3 + 1);
    convo.handle({ type: 'response.cancel' });
    const item = convo.context().find((i) => i.role === 'assistant')!;
    expect(item.text.length).toBeGreaterThan(0);
    convo.handle({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: 0 });
    expect(of('conversation.item.truncated')).toEqual([expect.objectContaining({ item_id: item.id, audio_end_ms: 0 })]);
    expect(convo.context().find((i) => i.id === item.id)?.text).toBe('');
    convo.handle({ type: 'conversation.item.delete', item_id: item.id });
    expect(of('conversation.item.deleted')).toEqual([expect.objectContaining({ item_id: item.id })]);
    expect(convo.context().some((i) => i.id === item.id)).toBe(false);
    convo.handle({ type: 'output_audio_buffer.clear' });
    expect(of('output_audio_buffer.cleared')).toHaveLength(1);
    expect(convo.playing).toBe(false);
    // An unknown item is an error, not silence.
    convo.handle({ type: 'conversation.item.delete', item_id: 'item_nope', event_id: 'e1' });
    expect(of('error').at(-1)).toMatchObject({ error: { code: 'item_not_found', event_id: 'e1' } });
  });

  it('answers session.update with session.updated carrying the whole session', () => {
    const { convo, of } = service({
      instructions: 'be Santa',
      audio: { input: { transcription: { model: 'm' } }, output: { voice: 'ash' } },
    });
    convo.handle({
      type: 'session.update',
      session: { type: 'realtime', instructions: 'be a pirate', audio: { output: { voice: 'verse' } } },
    });
    const updated = of('session.updated')[0] as { session: Record<string, unknown> };
    expect(updated.session).toMatchObject({
      instructions: 'be a pirate',
      audio: { input: { transcription: { model: 'm' } }, output: { voice: 'verse' } },
    });
  });

  it('transcribes the child only while transcription is on, only from audio; a text item is not speech', () => {
    const { convo, of } = service();
    convo.handle(childSays('hello Santa'));
    expect(of('conversation.item.input_audio_transcription.completed')).toEqual([]);
    convo.childSpoke('hello Santa');
    expect(of('conversation.item.input_audio_transcription.completed')).toEqual([
      expect.objectContaining({ transcript: 'hello Santa' }),
    ]);
    convo.childSpoke('mumble', { transcription: 'failed' });
    expect(of('conversation.item.input_audio_transcription.failed')).toHaveLength(1);
    convo.handle({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: null } } } });
    convo.childSpoke('can you hear me');
    expect(of('conversation.item.input_audio_transcription.completed')).toHaveLength(1);
    expect(of('input_audio_buffer.committed')).toHaveLength(3);
  });
});
