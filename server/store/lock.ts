import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StoreOpenError } from './errors.js';

const heldInThisProcess = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per data directory: two lowdb writers would corrupt the files. A lock left by
 * a process that died (a crash, SIGKILL) is taken over; a live holder refuses the start.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const path = join(resolve(dataDir), 'LOCK');
  if (heldInThisProcess.has(path)) {
    throw new StoreOpenError(
      `Another server in this process already uses ${dataDir}; refusing to start a second one on the same data.`,
    );
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldInThisProcess.add(path);
      return () => {
        heldInThisProcess.delete(path);
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new StoreOpenError(
          `Data directory ${dataDir} is in use by another server (pid ${holder}); refusing to start a second one on the same data.`,
        );
      }
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new StoreOpenError(`Could not lock data directory ${dataDir}`);
}
