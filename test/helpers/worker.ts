/** The real engine worker, forked the way the extension forks it, behind the extension's EngineConnection. */
import * as path from 'node:path';
import { EngineConnection, forkEngineWorker } from '../../src/extension/logic/engineConnection';
import { backendRequest } from './engine';

const WORKER_SOURCE = path.join(__dirname, '..', '..', 'src', 'worker', 'engineWorker.ts');

export interface WorkerHandle {
  connection: EngineConnection;
  logs: string[];
  /** The pid of the running worker process (undefined before it starts). */
  pid(): number | undefined;
}

/** A connection that starts the TypeScript worker source (through tsx) on its first request. */
export function connectWorker(startupModel?: string): WorkerHandle {
  const logs: string[] = [];
  let pid: number | undefined;
  const connection = new EngineConnection({
    spawn: () => {
      const worker = forkEngineWorker(WORKER_SOURCE, ['--import', 'tsx']);
      pid = worker.pid;
      return worker;
    },
    log: (line) => logs.push(line),
    getBackend: backendRequest,
    getStartupModel: () => startupModel,
  });
  return { connection, logs, pid: () => pid };
}
