#!/usr/bin/env node
// `npm start`: build the extension for Chrome and Firefox, say how to load it, then run the
// server on the embedded defaults (lowdb in ./data, Simulated Santa, dev payments).
import { spawn, spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('The extension build failed; see above.');
  process.exit(build.status ?? 1);
}
const port = process.env.PORT ?? '8787';
console.log(`
Call Santa extension built:
  Chrome:  open chrome://extensions, turn on Developer mode, "Load unpacked" -> ${root}.output/chrome-mv3
  Firefox: open about:debugging#/runtime/this-firefox, "Load Temporary Add-on" -> ${root}.output/firefox-mv2/manifest.json
           (zips for the stores are in ${root}.output)
In the side panel, the server URL is http://localhost:${port} by default.
Starting the server (Simulated Santa without OPENAI_API_KEY, dev payments without STRIPE_SECRET_KEY)...
`);
const server = spawn('npx', ['tsx', 'server/index.ts'], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
