import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';

/**
 * The background does almost nothing: the toolbar button opens the quick-call popup, and
 * the side panel is opened from there (or the browser's own side panel menu).
 */
export default defineBackground(() => {
  if (import.meta.env.BROWSER !== 'firefox') {
    // Clicking the toolbar button shows the popup, not the panel.
    void browser.sidePanel?.setPanelBehavior({ openPanelOnActionClick: false }).catch(() => undefined);
  }
  if (import.meta.env.MODE === 'e2e') {
    // E2E builds only (wxt --mode e2e): WebDriver BiDi cannot open moz-extension:// pages,
    // so the background opens the side panel page in a tab for the Firefox test to drive.
    browser.runtime.onInstalled.addListener(() => {
      void browser.tabs.create({ url: browser.runtime.getURL('/sidepanel.html') });
    });
  }
});
