import * as cp from 'child_process';
import * as vscode from 'vscode';
import { cliCommand } from './config';
import { Hinted, parseCatalog, parseProgress } from './text';

function run(command: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = cp.spawn(command[0], command.slice(1), { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', (error) => resolve({ code: null, stdout, stderr: stderr + String(error) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Ask which model to pull: `suggested` (from the server's error) first, then the catalog. Returns the
 *  name, and the catalog's default (what the server loads where `deepfim.model` is empty) when listed. */
export async function pickModel(suggested: string | undefined, cwd?: string
): Promise<{ name: string; defaultName?: string } | undefined> {
  const listing = await run([...cliCommand(), 'models', 'list'], cwd);
  const catalog = listing.code === 0 ? parseCatalog(listing.stdout) : [];
  if (catalog.length === 0) {
    const name = await vscode.window.showInputBox({
      title: 'deepfim: pull a model',
      prompt: 'Catalog name (see `deepfim models list`), e.g. deepseek-coder-1.3b-base',
      value: suggested ?? 'deepseek-coder-1.3b-base',
    });
    return name ? { name } : undefined;
  }
  const items = catalog.map((model) => ({
    label: model.name,
    description: model.isDefault ? 'default' : undefined,
    detail: model.detail,
  }));
  const first = items.findIndex((item) => item.label === suggested || item.label.split(':')[0] === suggested);
  if (first > 0) {
    items.unshift(...items.splice(first, 1));
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'deepfim: pull a model', placeHolder: 'the model to download' });
  return picked ? { name: picked.label, defaultName: catalog.find((model) => model.isDefault)?.name } : undefined;
}

/** Run `deepfim models pull NAME` under a cancellable progress notification. Returns the path;
 *  `failed` gets the reason of a failure from its last line, in VS Code's terms. */
export async function pullModel(name: string, log: vscode.OutputChannel, failed: (line: string) => Hinted,
  cwd?: string): Promise<string | undefined> {
  const command = [...cliCommand(), 'models', 'pull', name];
  log.appendLine(`$ ${command.join(' ')}`);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `deepfim: pulling ${name}`, cancellable: true },
    (progress, token) =>
      new Promise<string | undefined>((resolve) => {
        const child = cp.spawn(command[0], command.slice(1), { cwd });
        let stdout = '';
        let lastLine = '';
        let reported = 0;
        token.onCancellationRequested(() => child.kill());
        child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
        child.stderr.on('data', (data: Buffer) => {
          const text = data.toString();
          const pieces = text.split(/[\r\n]/).filter((piece) => piece.trim());
          if (pieces.length) {
            lastLine = pieces[pieces.length - 1].trim();
          }
          const parsed = parseProgress(text);
          if (!parsed) {
            log.append(text);
            return;
          }
          if (parsed.total) {
            const percent = Math.min(100, (parsed.done / parsed.total) * 100);
            progress.report({ increment: percent - reported, message: `${parsed.done.toFixed(1)} / ${parsed.total.toFixed(1)} MB` });
            reported = percent;
          } else {
            progress.report({ message: `${parsed.done.toFixed(1)} MB` });
          }
        });
        child.on('error', (error) => {
          void vscode.window.showErrorMessage(`deepfim: cannot run \`${command.join(' ')}\`: ${error.message}`);
          resolve(undefined);
        });
        child.on('close', (code) => {
          if (token.isCancellationRequested) {
            log.appendLine('pull cancelled (a later pull resumes the partial download)');
            resolve(undefined);
          } else if (code === 0) {
            const path = stdout.trim().split('\n').pop() ?? '';
            log.appendLine(`pulled ${name}: ${path}`);
            resolve(path || name);
          } else {
            log.appendLine(lastLine);
            const { message, settings } = failed(lastLine || `exit code ${code}`);
            void vscode.window.showErrorMessage(message, ...settings.map((setting) => `Open ${setting}`))
              .then((action) => action && vscode.commands.executeCommand('workbench.action.openSettings',
                action.slice('Open '.length)));
            resolve(undefined);
          }
        });
      }),
  );
}
