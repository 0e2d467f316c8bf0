import { atMost, failed, info, type Row } from './lib/report.js';
import { browserMissing, launchChromium, openWithScript } from './lib/browser.js';
import { median, sleep } from './lib/stats.js';
import { buyPackOverHttp, startE2eServer } from '../e2e/support/server.js';
import { signUpParent, type TestServer } from '../test/support/server.js';

export const name = 'connect';

const CALLS = Number(process.env.BENCH_CONNECTS ?? 7);

/**
 * Runs in the call window before its own code, on its own clock: when the window's peer
 * connection first holds inbound audio RTP (Santa's audio flowing), when the window shows the
 * call live, and when Santa's voice is audible (the window's own level meter).
 */
const PROBE = `(() => {
  const at = () => performance.timeOrigin + performance.now();
  window.__marks = { audio: null, live: null, audible: null };
  const Original = window.RTCPeerConnection;
  if (Original) {
    class Probed extends Original {
      constructor(config) {
        super(config);
        const pc = this;
        const poll = setInterval(async () => {
          if (pc.connectionState === 'closed') return clearInterval(poll);
          const stats = await pc.getStats();
          let packets = 0;
          stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived || 0; });
          if (packets > 0) { window.__marks.audio ??= at(); clearInterval(poll); }
        }, 5);
      }
    }
    window.RTCPeerConnection = Probed;
  }
  new MutationObserver(() => {
    if (document.querySelector('#app[data-phase="live"]')) window.__marks.live ??= at();
    if (document.querySelector('svg.santa[data-speaking]')) window.__marks.audible ??= at();
  }).observe(document, { subtree: true, childList: true, attributes: true });
})();`;

async function untilNoLiveCall(server: TestServer): Promise<void> {
  for (let i = 0; i < 200 && server.app.services.calls.liveCount() > 0; i++) await sleep(50);
}

/**
 * Click -> Santa's audio flowing, with the built extension in headless Chromium (fake
 * microphone) against Simulated Santa. Measured in two parts, each on its own clock:
 * the popup's click -> the call window exists, and the call window's navigation -> the
 * first inbound audio RTP of Santa's track (mic prompt, offer, the server's brokering, ICE and
 * DTLS on loopback, Santa's first packets). The figure is the sum of the two medians.
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const missing = browserMissing();
  if (missing) return [failed('call connect (did not run)', missing)];
  const server = await startE2eServer();
  const browser = await launchChromium();
  try {
    const parent = await signUpParent(server.api, { name: 'Bench Parent' });
    const profile = await server.api.post('/api/profiles', { name: 'Ada', age: 7, language: 'en' }, parent.token);
    if (profile.status !== 201) throw new Error(`profile: ${profile.status}`);
    const profileId = profile.body.id as string;
    await buyPackOverHttp(server, parent.token, 'pack-60');
    const setup = await browser.open('popup.html');
    await setup.evaluate(
      async ({ token, url }) => {
        await (
          globalThis as unknown as { chrome: { storage: { local: { set(v: object): Promise<void> } } } }
        ).chrome.storage.local.set({ token, serverUrl: url });
      },
      { token: parent.token, url: server.url },
    );
    await setup.close();

    // 1. The popup's click -> the call window exists (closed again at once: its call ends).
    const opens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const popup = await browser.open('popup.html');
      const kid = popup.locator(`button.kid[data-profile="${profileId}"]`);
      await kid.waitFor({ timeout: 15_000 });
      const opened = browser.nextPage();
      const t0 = Date.now();
      await kid.click();
      const win = await opened;
      if (i > 0) opens.push(Date.now() - t0);
      await win.close();
      await popup.close().catch(() => undefined);
      await untilNoLiveCall(server);
    }

    // 2. The call window -> Santa's audio flowing.
    const audio: number[] = [];
    const live: number[] = [];
    const audible: number[] = [];
    for (let i = 0; i < CALLS + 1; i++) {
      const call = await openWithScript(
        browser.context,
        `chrome-extension://${browser.extensionId}/call.html?profile=${profileId}`,
        PROBE,
      );
      await call.waitForFunction(
        () => {
          const m = (window as unknown as { __marks: Record<string, number | null> }).__marks;
          return m.audio !== null && m.live !== null && m.audible !== null;
        },
        undefined,
        { timeout: 30_000 },
      );
      const m = await call.evaluate(() => {
        const marks = (window as unknown as { __marks: { audio: number; live: number; audible: number } }).__marks;
        return { start: performance.timeOrigin, audio: marks.audio, live: marks.live, audible: marks.audible };
      });
      log(
        `connect ${i}: live ${(m.live - m.start).toFixed(0)} ms, audio flowing ${(m.audio - m.start).toFixed(0)} ms, Santa audible ${(m.audible - m.start).toFixed(0)} ms${i === 0 ? ' (warm-up)' : ''}`,
      );
      if (i > 0) {
        audio.push(m.audio - m.start);
        live.push(m.live - m.start);
        audible.push(m.audible - m.start);
      }
      await call.locator('button.hangup').click();
      await call.locator('#app[data-phase="ended"]').waitFor({ timeout: 15_000 });
      await call.close();
      await untilNoLiveCall(server);
    }
    const click = median(opens);
    return [
      atMost(
        'call connect: click -> Santa audio flowing (Chromium, Simulated Santa, median)',
        click + median(audio),
        'ms',
        1500,
        `click -> window ${click.toFixed(0)} ms + window -> first inbound audio RTP ${median(audio).toFixed(0)} ms; ${audio.length} calls after a warm-up`,
      ),
      info('call connect: call window -> call live (WebRTC connected, median)', median(live), 'ms'),
      info("call connect: call window -> Santa audible in the window's level meter (median)", median(audible), 'ms'),
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
