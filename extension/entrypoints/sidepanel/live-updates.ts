import { newestOnly } from '../../lib/newest.js';
import type { SantaSocket, ServerEvent } from '../../lib/socket.js';

/**
 * How a shown side panel view follows a server event. It must not re-render itself: a
 * re-render builds new controls, so keyboard focus falls back to <body> and anything the
 * parent half-typed is gone. Instead each event loads the view's data again, and the view
 * repaints only the parts that data changes (`paint`).
 *
 * - The subscription starts at once, before the view's first load, so an event that lands
 *   while the view is still loading is not lost: it is caught up as soon as the view is built.
 * - Only the newest answer is painted: two quick events must not end on the older data when
 *   the older answer arrives last.
 * - `signal` is aborted when the panel shows another view. That ends the subscription, and an
 *   answer that lands afterwards is dropped.
 * - A load that fails keeps what is shown; the next event or visit loads again.
 */
export interface LiveUpdates<T> {
  /** The view is built: from now on each event's newest answer is painted. */
  start(paint: (next: T) => void): void;
  /** Ends the subscription early (the view's first load failed, so there is nothing to update). */
  stop(): void;
}

export function followUpdates<T>(
  socket: SantaSocket | null,
  event: ServerEvent | ServerEvent[],
  signal: AbortSignal,
  load: () => Promise<T>,
): LiveUpdates<T> {
  let paint: ((next: T) => void) | null = null;
  let missed = false;
  const loadNewest = newestOnly(load);

  async function refresh(): Promise<void> {
    let answer: { value: T; newest: boolean };
    try {
      answer = await loadNewest();
    } catch {
      return;
    }
    if (!answer.newest || signal.aborted || !paint) return;
    paint(answer.value);
  }

  const offs = (Array.isArray(event) ? event : [event]).map((e) =>
    socket?.on(e, () => {
      if (paint) void refresh();
      else missed = true;
    }),
  );
  const stop = (): void => {
    for (const off of offs) off?.();
    signal.removeEventListener('abort', stop);
  };
  // An already aborted signal never fires `abort`: the view was left before it subscribed.
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });

  return {
    start(p) {
      paint = p;
      if (missed && !signal.aborted) void refresh();
    },
    stop,
  };
}

/** Puts `next` where `old` is and returns it, so the caller can swap it again next time. */
export function swap<E extends Element>(old: E, next: E): E {
  old.replaceWith(next);
  return next;
}
