/**
 * The floor under the metered-calls figure: a bare socket.io server, configured like ours
 * (heartbeats every 10 s), that does nothing but emit one `call:tick`-shaped event a second
 * to each connected socket's own room. No store, no auth, no metering: what 1 Hz ticks cost
 * socket.io and the kernel on this machine by themselves.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { pingInterval: 10_000, pingTimeout: 10_000, serveClient: false });
io.on('connection', (socket) => {
  const room = `account:${socket.id}`;
  void socket.join(room);
  let elapsedSeconds = 0;
  const timer = setInterval(() => {
    elapsedSeconds++;
    io.to(room).emit('call:tick', {
      callId: socket.id,
      remainingSeconds: 600 - elapsedSeconds,
      elapsedSeconds,
      profileId: socket.id,
    });
  }, 1000);
  socket.on('disconnect', () => clearInterval(timer));
});
http.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (http.address() as { port: number }).port }));
process.on('message', (msg: { type: string }) => {
  if (msg.type !== 'stats') return;
  const r = process.resourceUsage();
  process.send?.({ type: 'stats', cpuMicros: r.userCPUTime + r.systemCPUTime, at: Date.now() });
});
