import { defineConfig } from 'wxt';

// One source for Chrome MV3 and Firefox; WXT maps the sidepanel entrypoint to Chrome's
// side_panel and Firefox's sidebar_action, and the popup to action / browser_action.
//
// `wxt build -b firefox --mode e2e` (output .output/firefox-mv2-e2e) is the build the
// Firefox end-to-end test installs: WebDriver BiDi cannot open moz-extension:// URLs, so in
// that mode only the background opens the side panel page in a tab. Store builds never
// contain that code (it is behind import.meta.env.MODE and removed by the bundler).
export default defineConfig({
  srcDir: 'extension',
  outDir: '.output',
  // WXT resolves publicDir from the project root; the icons live with the extension.
  publicDir: 'extension/public',
  modules: ['@wxt-dev/i18n/module'],
  manifest: ({ browser }) => ({
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    action: { default_title: '__MSG_extActionTitle__' },
    // Only storage (token and settings) and, in Chrome, the side panel. The server is
    // reached with CORS (it allows extension origins), so no host permissions are needed.
    permissions: browser === 'firefox' ? ['storage'] : ['storage', 'sidePanel'],
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: {
              id: 'call-santa@callsanta.app',
              // 140 (the ESR) is the first desktop version that reads data_collection_permissions.
              strict_min_version: '140.0',
              // What leaves the browser: the parent's name and email and the child profiles
              // (personallyIdentifyingInfo), the password and session token
              // (authenticationInfo) and the child's voice in the call (personalCommunications).
              data_collection_permissions: {
                required: ['personallyIdentifyingInfo', 'authenticationInfo', 'personalCommunications'],
              },
            },
            // Firefox for Android reads data_collection_permissions from 142.
            gecko_android: { strict_min_version: '142.0' },
          },
        }
      : {}),
  }),
});
