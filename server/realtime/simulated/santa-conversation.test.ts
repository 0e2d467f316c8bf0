import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { SANTA_LINES } from '../../santa/persona.js';
import type { OutputAudioTranscriptDoneEvent, RealtimeServerEvent, ResponseDoneEvent } from '../events.js';
import { SantaConversation, type ConversationPacing } from './santa-conversation.js';
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
  const convo = new SantaConversation(script, clock, PACING, { emit: (e) => events.push(e), voice: (m) => voices.push(m) }, { model: 'test' });
  const of = (type: string) => events.filter((e) => e.type === type);
  const lines = () => (of('response.output_audio_transcript.done') as OutputAudioTranscriptDoneEvent[]).map((e) => e.transcript);
  return { clock, events, voices, convo, of, lines };
}

const childSays = (text: string) => ({ type: 'conversation.item.create', item: { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] } });

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
    expect(again.of('error')).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'conversation_already_has_active_response', event_id: 'evt-2' }) })]);
  });

  it('when the child speaks before the requested greeting began, it begins and is interrupted at once, then Santa replies', () => {
    const { clock, convo, of, lines } = conversation();
    convo.handle({ type: 'response.create' });
    convo.open();
    convo.handle(childSays('Are you a robot?'));
    const done = of('response.done') as ResponseDoneEvent[];
    expect(of('response.created')).toHaveLength(1);
    expect(done.map((d) => [d.response.status, d.response.status_details?.reason])).toEqual([['cancelled', 'turn_detected']]);
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
