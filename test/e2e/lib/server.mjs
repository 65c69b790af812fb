// Starts and stops code-server (VS Code 1.100 server) in its own process group.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export function findCodeServer() {
  const cache = process.env.VSCODE_E2E_CACHE || path.join(os.homedir(), '.cache', 'vscode-e2e');
  const marker = path.join(cache, 'code-server-bin');
  const bin = process.env.CODE_SERVER_ENTRY || (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '');
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(
      `code-server is not installed (looked for ${process.env.CODE_SERVER_ENTRY ? `CODE_SERVER_ENTRY=${bin}` : marker}).\n` +
        '  Run once, as root on Debian:  bash scripts/ci-setup.sh\n' +
        '  (it installs chromium, ripgrep and code-server 4.100.3 into ~/.cache/vscode-e2e)',
    );
  }
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function healthy(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * Starts code-server on 127.0.0.1:port in a new process group (detached), so that
 * stop() ends it together with the extension host and the engine worker it forks.
 */
export async function startServer({ entry, run, port, workspace, env }) {
  const logPath = path.join(run, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const args = [
    entry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    path.join(run, 'user'),
    '--extensions-dir',
    path.join(run, 'ext'),
    workspace,
  ];
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const onExit = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  process.on('exit', onExit);

  const end = Date.now() + 60_000;
  while (!(await healthy(port))) {
    if (exited)
      throw new Error(
        `code-server exited (${JSON.stringify(exited)}) before answering; log: ${logPath}\n${tail(logPath, 30)}`,
      );
    if (Date.now() > end)
      throw new Error(`code-server did not answer /healthz in 60 s; log: ${logPath}\n${tail(logPath, 30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    pid: child.pid,
    logPath,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      process.off('exit', onExit);
      if (exited) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const until = Date.now() + 5000;
      while (Date.now() < until && groupAlive(child.pid)) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive(child.pid)) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    },
  };
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${e.message})`;
  }
}
