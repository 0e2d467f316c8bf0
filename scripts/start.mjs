#!/usr/bin/env node
// `npm start`: build the extension for Chrome and Firefox, say how to load it, then run the
// server on the embedded defaults (lowdb in ./data, Simulated Santa, dev payments).
import { spawn, spawnSync } from 'node:child_process';
import { devServerUrl } from './dev-server-url.mjs';

const root = new URL('..', import.meta.url).pathname;
// The extension defaults to the server started below, so the printed address and the build agree.
const serverUrl = devServerUrl();
const build = spawnSync('npm', ['run', 'build', '--silent'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WXT_DEFAULT_SERVER_URL: serverUrl },
});
if (build.status !== 0) {
  console.error('The extension build failed; see above.');
  process.exit(build.status ?? 1);
}
console.log(`
Call Santa extension built:
  Chrome:  open chrome://extensions, turn on Developer mode, "Load unpacked" -> ${root}.output/chrome-mv3
  Firefox: open about:debugging#/runtime/this-firefox, "Load Temporary Add-on" -> ${root}.output/firefox-mv2/manifest.json
           (zips for the stores are in ${root}.output)
The extension is built to use the server at ${serverUrl} (change it in the side panel's Settings).
Starting the server (Simulated Santa without OPENAI_API_KEY, dev payments without STRIPE_SECRET_KEY)...
`);
const server = spawn('npx', ['tsx', 'server/index.ts'], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
