// The address `npm start` serves on, as the extension it builds must know it: the server
// listens on PORT (8787 by default) on this computer.
export function devServerUrl(env = process.env) {
  const port = env.PORT && /^\d{1,5}$/.test(env.PORT) ? env.PORT : '8787';
  return `http://localhost:${port}`;
}
