import type { ControlCloseReason, RealtimeClientEvent, RealtimeControl, RealtimeServerEvent } from './provider.js';

/**
 * Listener bookkeeping shared by both providers' control channels: listeners can
 * unsubscribe, one throwing listener cannot starve the others, and close fires once.
 */
export class ControlChannel implements RealtimeControl {
  private readonly eventListeners = new Set<(event: RealtimeServerEvent) => void>();
  private readonly closeListeners = new Set<(reason: ControlCloseReason) => void>();
  private isClosed = false;

  constructor(
    private readonly sender: (event: RealtimeClientEvent) => void,
    private readonly closer: () => void,
    private readonly onListenerError: (error: unknown) => void = () => {},
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  onEvent(listener: (event: RealtimeServerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: (reason: ControlCloseReason) => void): () => void {
    if (this.isClosed) {
      queueMicrotask(() => listener('closed'));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  send(event: RealtimeClientEvent): void {
    if (this.isClosed) return;
    this.sender(event);
  }

  close(): void {
    if (this.isClosed) return;
    this.closer();
    this.markClosed('closed');
  }

  /** Provider side: deliver a server event to every listener. */
  emit(event: RealtimeServerEvent): void {
    if (this.isClosed) return;
    for (const listener of [...this.eventListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Provider side: the transport is gone. */
  markClosed(reason: ControlCloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    this.eventListeners.clear();
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
