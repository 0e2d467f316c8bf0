import { browser } from 'wxt/browser';

/**
 * The few browser UI calls that differ between Chrome and Firefox: opening the side panel
 * (Chrome `sidePanel`, Firefox `sidebarAction`) and the call window.
 */
interface SidebarAction {
  open(): Promise<void>;
}

export function isFirefox(): boolean {
  return import.meta.env.BROWSER === 'firefox';
}

/**
 * Opens the side panel. Both browsers only allow it inside a user gesture, so this must be
 * called synchronously from the click handler: no `await` before it. The popup looks up
 * its window id when it opens, so Chrome's `sidePanel.open({ windowId })` needs none here.
 */
export function openSidePanel(windowId: number | undefined): Promise<void> {
  if (isFirefox()) {
    const sidebar = (browser as unknown as { sidebarAction?: SidebarAction }).sidebarAction;
    return sidebar ? sidebar.open() : Promise.reject(new Error('sidebarAction is not available'));
  }
  if (windowId === undefined) return Promise.reject(new Error('No window to open the side panel in'));
  return browser.sidePanel.open({ windowId });
}

export const CALL_WINDOW_SIZE = { width: 460, height: 760 } as const;

export function callWindowUrl(profileId: string): string {
  return browser.runtime.getURL(`/call.html?profile=${encodeURIComponent(profileId)}` as '/call.html');
}

/** The call window is its own popup window: the microphone prompt works there in both browsers. */
export async function openCallWindow(profileId: string): Promise<void> {
  await browser.windows.create({ url: callWindowUrl(profileId), type: 'popup', focused: true, ...CALL_WINDOW_SIZE });
}

/** Opens a link (checkout, the policy page) in a normal tab. Only http(s) URLs are opened. Resolves with the tab's id. */
export async function openTab(url: string): Promise<number | undefined> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('Only web links are opened');
  return (await browser.tabs.create({ url: parsed.href })).id;
}

/**
 * Calls `closed` once the tab with this id is closed. Needs no permission: the extension
 * sees neither the tab's address nor its title, only that it went. Returns the unsubscribe.
 */
export function onTabClosed(tabId: number, closed: () => void): () => void {
  const listener = (id: number) => {
    if (id !== tabId) return;
    browser.tabs.onRemoved.removeListener(listener);
    closed();
  };
  browser.tabs.onRemoved.addListener(listener);
  return () => browser.tabs.onRemoved.removeListener(listener);
}
