import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { callWindowUrl, CALL_WINDOW_SIZE, openCallWindow, openSidePanel, openTab } from './browser-ui.js';

// fakeBrowser has neither Chrome's sidePanel nor Firefox's sidebarAction: mock them.
const fake = fakeBrowser as unknown as {
  sidePanel?: { open: ReturnType<typeof vi.fn> };
  sidebarAction?: { open: ReturnType<typeof vi.fn> };
};

describe('browser UI helpers', () => {
  beforeEach(() => {
    fakeBrowser.reset();
    fake.sidePanel = { open: vi.fn(async () => undefined) };
    fake.sidebarAction = { open: vi.fn(async () => undefined) };
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    delete fake.sidePanel;
    delete fake.sidebarAction;
  });

  it("opens Chrome's side panel synchronously, inside the click (no await before it)", () => {
    expect(import.meta.env.BROWSER).not.toBe('firefox');
    void openSidePanel(7);
    expect(fake.sidePanel!.open).toHaveBeenCalledWith({ windowId: 7 });
    expect(fake.sidebarAction!.open).not.toHaveBeenCalled();
  });

  it("opens Firefox's sidebar synchronously with sidebarAction", () => {
    vi.stubEnv('BROWSER', 'firefox');
    void openSidePanel(undefined);
    expect(fake.sidebarAction!.open).toHaveBeenCalledOnce();
    expect(fake.sidePanel!.open).not.toHaveBeenCalled();
  });

  it('refuses to guess a window in Chrome', async () => {
    await expect(openSidePanel(undefined)).rejects.toThrow();
  });

  it('opens the call window as its own popup window, for one child', async () => {
    const created: unknown[] = [];
    fakeBrowser.windows.onCreated.addListener((w) => void created.push(w));
    const spy = vi.spyOn(fakeBrowser.windows, 'create');
    await openCallWindow('child/1');
    expect(spy).toHaveBeenCalledWith({
      url: callWindowUrl('child/1'),
      type: 'popup',
      focused: true,
      ...CALL_WINDOW_SIZE,
    });
    expect(callWindowUrl('child/1')).toMatch(/^chrome-extension:\/\/[^/]+\/call\.html\?profile=child%2F1$/);
    expect(created).toHaveLength(1);
  });

  it('opens only web links in tabs', async () => {
    const spy = vi.spyOn(fakeBrowser.tabs, 'create');
    await openTab('http://127.0.0.1:8787/pay/dev_123');
    expect(spy).toHaveBeenCalledWith({ url: 'http://127.0.0.1:8787/pay/dev_123' });
    await expect(openTab('javascript:alert(1)')).rejects.toThrow();
    await expect(openTab('file:///etc/passwd')).rejects.toThrow();
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
