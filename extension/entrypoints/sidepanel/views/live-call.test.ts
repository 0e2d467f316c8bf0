import { describe, expect, it } from 'vitest';
import type { CallEndReason } from '../../../../shared/index.js';
import { json } from '../../../lib/testing/dom.js';
import { panelContext, viewTestFrame } from '../testing.js';
import { liveCallPanel } from './live-call.js';

describe('the live call card says why the call really ended', () => {
  const ui = viewTestFrame();

  const endedWith = (reason: CallEndReason): string => {
    const ctx = panelContext({ view: 'live call', fetch: async () => json({}), raw: ui.raw, refreshAccount: async () => null });
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const panel = liveCallPanel(ctx, ctx.socket!, slot);
    ui.raw.fire('call:started', { callId: 'c1', profileId: 'p1', profileName: 'Ada', availableSeconds: 60, simulated: false });
    ui.raw.fire('call:ended', { callId: 'c1', reason, seconds: 60 });
    const status = slot.querySelector('.live-status')?.textContent ?? '';
    panel.dispose();
    return status;
  };

  it("the child's daily minutes, not the longest call", () => {
    expect(endedWith('daily_limit')).toBe("Your child's daily minutes were used up. They talked for 1 minute.");
  });

  it('quiet hours beginning, not the longest call', () => {
    expect(endedWith('quiet_hours')).toBe('The call ended because quiet hours began. They talked for 1 minute.');
  });

  it('the longest call allowed keeps its own words', () => {
    expect(endedWith('max_duration')).toBe('The call reached the longest allowed length. They talked for 1 minute.');
  });
});
