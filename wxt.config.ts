import { defineConfig } from 'wxt';

// One source for Chrome MV3 and Firefox; WXT maps the sidepanel entrypoint to
// Chrome's side_panel and Firefox's sidebar_action.
export default defineConfig({
  srcDir: 'extension',
  outDir: '.output',
  manifest: ({ browser }) => ({
    name: 'Call Santa',
    description: 'Let your child talk with Santa in a supervised live voice call.',
    permissions: browser === 'firefox' ? ['storage'] : ['storage', 'sidePanel'],
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: {
              id: 'call-santa@callsanta.app',
              strict_min_version: '128.0',
              data_collection_permissions: { required: ['personallyIdentifyingInfo'] },
            },
          },
        }
      : {}),
  }),
});
