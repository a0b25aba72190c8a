import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction,
  CompletionRequest,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  ServerOptions,
  ShowMessageNotification,
  ShowMessageParams,
  State,
} from 'vscode-languageclient/node';
import { EDIT_COMMAND, executeEdit } from './actions';
import {
  cliCommand, effectiveTarget, enabledForLanguage, SECTION, sentSettings, serverCommand, serverSettings,
  showInSuggestWidget,
} from './config';
import { Explanation, PromptDocuments, SCHEME } from './explain';
import { SlowCompletions } from './inline';
import { pickModel, pullModel } from './pull';
import { inVSCodeTerms, pulledModelUse, pullFailed, pullSuggestion, settingNames } from './text';
import { ServerStatus, StatusBar } from './status';

/** The setting of the program that runs the server. */
const COMMAND_SETTING = `${SECTION}.serverCommand`;

/** The URI schemes of the documents the server gets (and completes). A notebook's cells go to the server as
 *  the notebook document they belong to (its notebookDocumentSync), which completes a cell within it. */
const SCHEMES = ['file', 'untitled', 'vscode-notebook-cell'];

/** The label prefix of a button that opens one setting ("Open deepfim.model"). */
const OPEN_SETTING = 'Open ';

/** A LanguageClient whose own start-failure notification is left to the extension, which says
 *  what to run instead (one notification, not a generic "couldn't create connection"). */
class DeepfimClient extends LanguageClient {
  quietStart = true;

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    super.error(message, data, this.quietStart ? false : showNotification);
  }
}

/** A spawn failure such as ENOENT, kept apart from the server failing once running. */
class SpawnError extends Error {
  constructor(readonly command: string[], readonly code: string | undefined, cause: Error) {
    super(cause.message);
  }
}

/** `program` as the OS would find it when started in `cwd` (as child_process.spawn does): an existing
 *  file for a path (a relative one from `cwd`), else a PATH lookup. */
export function findProgram(program: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): string | undefined {
  const isFile = (candidate: string): boolean => {
    try {
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/') || program.includes('\\')) {
    const file = path.resolve(cwd ?? process.cwd(), program);
    return isFile(file) ? file : undefined;
  }
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    for (const extension of extensions) {
      const candidate = path.join(dir || '.', program + extension);
      if (isFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

class Extension implements vscode.Disposable {
  private client: DeepfimClient | undefined;
  private command: string[] = [];
  private readonly log = vscode.window.createOutputChannel('deepfim', { log: true });
  private readonly status = new StatusBar();
  private readonly prompts = new PromptDocuments();
  private readonly slow = new SlowCompletions((message) => this.log.info(message));
  private readonly disposables: vscode.Disposable[] = [];
  /** Problems already shown in a notification, so that a restart or reload loop never repeats one (until the
   *  settings change). */
  private readonly notified = new Set<string>();
  private lastSent = '';

  /** `manifest`: the extension's package.json (its settings, for the server's hints). */
  constructor(private readonly manifest: unknown) {
    this.disposables.push(
      this.log,
      this.status,
      this.prompts,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this.prompts),
      // Offers nothing: tells SlowCompletions when VS Code gives up on inline completions.
      vscode.languages.registerCompletionItemProvider(SCHEMES.map((scheme) => ({ scheme })), {
        provideCompletionItems: (document, position) => this.slow.noteSuggest(document, position),
      }),
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.client ? undefined : void this.start()),
      vscode.commands.registerCommand('deepfim.toggle', () => this.toggle()),
      vscode.commands.registerCommand('deepfim.trigger', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
      vscode.commands.registerCommand('deepfim.pullModel', (name?: string) => this.pull(name)),
      vscode.commands.registerCommand('deepfim.showLastPrompt', () => this.showLastPrompt()),
      vscode.commands.registerCommand('deepfim.restart', () => {
        this.notified.clear(); // the user tries again: a problem that stays is told again
        return this.restart();
      }),
      vscode.commands.registerCommand('deepfim.showLog', () => this.log.show(true)),
      vscode.commands.registerCommand('deepfim.menu', () => this.menu()),
    );
  }

  /** Where the server and the CLI run: the first workspace folder, if the workspace is trusted (a `python -m`
   *  in deepfim.serverCommand would import the folder's own modules). */
  private cwd(): string | undefined {
    return vscode.workspace.isTrusted
      ? vscode.workspace.workspaceFolders?.find((folder) => folder.uri.scheme === 'file')?.uri.fsPath : undefined;
  }

  /** Whether `program` is a relative path in an untrusted workspace: the workspace's own program, or one
   *  wherever VS Code was started, is not run. */
  private static untrusted(program: string): boolean {
    return !vscode.workspace.isTrusted && /[/\\]/.test(program) && !path.isAbsolute(program);
  }

  /** Say that a relative `program` is not run in an untrusted workspace (every time when `asked`). */
  private refuseUntrusted(program: string, asked = false): void {
    const message = `deepfim: this workspace is not trusted, so the relative program \`${program}\` of ` +
      '"deepfim.serverCommand" (it would be the workspace\'s own) is not run. Give its full path, or trust the ' +
      'workspace.';
    this.status.set({
      state: 'error', message: `\`${program}\` is not run in an untrusted workspace`, settings: [COMMAND_SETTING],
    });
    const open = `${OPEN_SETTING}${COMMAND_SETTING}`;
    if (asked) {
      void vscode.window.showErrorMessage(message, open).then((action) => this.act(action));
    } else {
      this.notifyOnce(`untrusted:${program}`, message, open);
    }
  }

  // ------------------------------------------------------------------ notifications
  /** Show `message` once per `key` for this window's life (not again after restarts). */
  private notifyOnce(key: string, message: string, ...actions: string[]): void {
    if (this.notified.has(key)) {
      return;
    }
    this.notified.add(key);
    void vscode.window.showErrorMessage(message, ...actions).then((action) => this.act(action));
  }

  /** The server's message in VS Code's terms (`deepfim.model` where it says "pass --model"). */
  private hinted(message: string): { message: string; settings: string[] } {
    return inVSCodeTerms(message, settingNames(this.manifest));
  }

  private act(action: string | undefined): void {
    if (action === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', '@ext:deepfim.deepfim');
    } else if (action?.startsWith(`${OPEN_SETTING}deepfim.`)) {
      void vscode.commands.executeCommand('workbench.action.openSettings', action.slice(OPEN_SETTING.length));
    } else if (action === 'Show Log') {
      this.log.show(true);
    } else if (action?.startsWith('Pull ')) {
      void this.pull(action.slice('Pull '.length));
    }
  }

  /** The server's window/showMessage in VS Code's terms, with buttons for what it asks the user
   *  to do: pull the model it names, open the setting it names. */
  private showMessage(params: ShowMessageParams): void {
    const { message, settings } = this.hinted(params.message);
    const pull = pullSuggestion(message);
    const open = settings.length ? [`${OPEN_SETTING}${settings[0]}`] : [];
    if (params.type === MessageType.Error) {
      const actions = [...(pull ? [`Pull ${pull}`] : []), ...(open.length ? open : ['Open Settings']), ...(pull ? [] : ['Show Log'])];
      if (this.editing > 0) { // why the code action failed: told on every try
        void vscode.window.showErrorMessage(message, ...actions).then((action) => this.act(action));
      } else {
        this.notifyOnce(`server:${params.message}`, message, ...actions);
      }
    } else if (params.type === MessageType.Warning) {
      void vscode.window.showWarningMessage(message, ...open).then((action) => this.act(action));
    } else {
      void vscode.window.showInformationMessage(message, ...open).then((action) => this.act(action));
    }
  }

  /** Say that `command`'s program is missing: once per command for the server's starts, every time
   *  (`asked`) for a command the user ran. */
  private notInstalled(command: string[], asked = false): void {
    const program = command[0];
    const relative = /[/\\]/.test(program) && !path.isAbsolute(program)
      ? ` in ${this.cwd() ?? process.cwd()} (a relative path starts at the first workspace folder)` : '';
    this.status.set({ state: 'error', message: `\`${program}\` was not found${relative}`,
      settings: [COMMAND_SETTING] });
    const message = program === 'deepfim'
      ? 'deepfim: the `deepfim` command was not found. Install the deepfim server (`pip install -e .` in a clone of ' +
        'deepfim, e.g. into a virtual environment) and set "deepfim.serverCommand" to its full path, e.g. ' +
        '["/path/to/.venv/bin/deepfim", "serve"], or put `deepfim` on PATH.'
      : `deepfim: the server command \`${program}\` was not found${relative}. Fix "deepfim.serverCommand" ` +
        '(program and arguments, e.g. ["/path/to/.venv/bin/deepfim", "serve"]).';
    const open = `${OPEN_SETTING}${COMMAND_SETTING}`;
    if (asked) {
      void vscode.window.showErrorMessage(message, open).then((action) => this.act(action));
    } else {
      this.notifyOnce(`enoent:${command.join('\0')}`, message, open);
    }
  }

  // ------------------------------------------------------------------ the client
  private serverOptions(command: string[]): ServerOptions {
    return () =>
      new Promise<cp.ChildProcess>((resolve, reject) => {
        if (Extension.untrusted(command[0])) {
          const reason = `${command[0]}: a relative path in an untrusted workspace`;
          reject(new SpawnError(command, 'UNTRUSTED', new Error(reason)));
          return;
        }
        const found = findProgram(command[0], process.env, this.cwd());
        if (!found) {
          reject(new SpawnError(command, 'ENOENT', new Error(`${command[0]}: not found`)));
          return;
        }
        this.log.appendLine(`starting ${JSON.stringify(command)}`);
        const child = cp.spawn(command[0], command.slice(1), { cwd: this.cwd(), env: process.env });
        child.once('error', (error: NodeJS.ErrnoException) => reject(new SpawnError(command, error.code, error)));
        // The client pipes the process's stderr into the log itself.
        child.once('spawn', () => resolve(child));
      });
  }

  private clientOptions(): LanguageClientOptions {
    const status = this.status;
    return {
      documentSelector: SCHEMES.map((scheme) => ({ scheme })),
      initializationOptions: () => this.initializationOptions(),
      outputChannel: this.log,
      errorHandler: {
        error: (_error, _message, count) => ({ action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => this.closed(),
      },
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) => {
          if (!enabledForLanguage(document)) {
            return null;
          }
          const begin = Date.now();
          return status.working(async () => {
            const result = await this.slow.provide(document, position, context, token, next);
            const items = Array.isArray(result) ? result : result?.items ?? [];
            this.log.debug(`inline completion at ${position.line + 1}:${position.character + 1}: ${items.length} item(s)` +
              `${token.isCancellationRequested ? ' (cancelled)' : ''} in ${Date.now() - begin} ms`);
            return result ?? null;
          });
        },
        // deepfim's code actions: the instruction is asked here when the action has none.
        executeCommand: (command, args, next) => (command === EDIT_COMMAND
          ? this.edit(args, next) : next(command, args)),
        // The dropdown item is for clients without inline completion; here it would only repeat
        // the ghost text in the suggest widget, unless the user asks for it.
        provideCompletionItem: (document, position, context, token, next) => {
          if (!showInSuggestWidget() || !enabledForLanguage(document)) {
            return null;
          }
          return next(document, position, context, token);
        },
      },
    };
  }

  /** `deepfim.edit` commands under way: the server's errors meanwhile answer the user's action, each time. */
  private editing = 0;

  private async edit(args: unknown[], next: Parameters<typeof executeEdit>[1]): Promise<unknown> {
    this.editing += 1;
    try {
      return await executeEdit(args, next, (uri, explanation) => {
        const name = decodeURIComponent(uri.replace(/^.*[/:]/, '')) || 'untitled';
        return this.prompts.showMarkdown(`explanation (${name})`, uri, explanation);
      });
    } finally {
      this.editing -= 1;
    }
  }

  /** The settings a server gets in `initialize`: those of now, also when the client starts it again
   *  after a crash (the settings changed since went to the server that crashed). */
  private initializationOptions(): ReturnType<typeof sentSettings> {
    const settings = sentSettings();
    this.lastSent = JSON.stringify(settings);
    return settings;
  }

  private crashes: number[] = [];
  /** closed() asked the client to start the server again: the Stopped state the client passes through
   *  on the way is no stop. */
  private restarting = false;

  private closed(): { action: CloseAction; message?: string; handled?: boolean } {
    const now = Date.now();
    this.crashes = this.crashes.filter((time) => now - time < 3 * 60_000);
    this.crashes.push(now);
    if (this.crashes.length <= 3) {
      this.status.set({ state: 'starting', message: 'restarting the server after it stopped' });
      this.restarting = true;
      return { action: CloseAction.Restart, handled: true };
    }
    this.status.set({ state: 'stopped', message: 'the server stopped 4 times in 3 minutes; see the log' });
    this.notifyOnce(`crash:${this.command.join('\0')}`,
      'deepfim: the server stopped 4 times in 3 minutes and will not be restarted. The log (deepfim: Show Log) has its output; "deepfim: Restart Server" tries again.',
      'Show Log');
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  /** Counts starts: a restart whose stop was overtaken by another start starts no second server. */
  private starts = 0;

  async start(): Promise<void> {
    this.starts += 1;
    const command = serverCommand();
    this.command = command;
    this.crashes = [];
    this.status.set({ state: 'starting', message: `starting ${command.join(' ')}` });
    const client = new DeepfimClient('deepfim', 'deepfim', this.serverOptions(command), this.clientOptions());
    this.client = client;
    client.onNotification('deepfim/status', (params: ServerStatus) => {
      if (this.client === client) {
        const { message, settings } = this.hinted(typeof params.message === 'string' ? params.message : '');
        this.status.set({ ...params, message, settings });
      }
    });
    // Replaces the client's default handler (registered before start, installed after it).
    client.onNotification(ShowMessageNotification.type, (params) => this.showMessage(params));
    client.onDidChangeState((event) => {
      if (this.client !== client) {
        return;
      }
      if (event.newState === State.Running) {
        // Started, the first time or again after a crash: the client initializes its features next and
        // then resolves the start under way (start() returns that very promise while one is).
        client.start().then(() => this.started(client), () => undefined);
      }
      const restarting = this.restarting && event.newState === State.Stopped;
      this.restarting = restarting;
      if (this.status.current.state === 'error' || restarting) {
        return;
      }
      if (event.newState === State.Stopped && this.status.current.state !== 'stopped') {
        // (a 'stopped' set by closed() says why, e.g. 4 crashes in 3 minutes: it stays)
        this.status.set({ state: 'stopped', message: 'the server is not running' });
      } else if (event.newState === State.StartFailed) {
        // The client's own restart after a crash could not start the server (the program is gone,
        // a broken install); a start of ours that fails says why in its own catch, after this.
        this.status.set({
          state: 'error',
          message: 'the server could not be started again; see its log ("deepfim: Show Log"), '
            + 'then run "deepfim: Restart Server"',
        });
      }
    });
    try {
      await client.start();
      client.quietStart = false;
      this.started(client);
    } catch (error) {
      if (this.client !== client) {
        return;
      }
      client.quietStart = false;
      if (error instanceof SpawnError && error.code === 'ENOENT') {
        this.notInstalled(command);
      } else if (error instanceof SpawnError && error.code === 'UNTRUSTED') {
        this.refuseUntrusted(command[0]);
      } else {
        const reason = error instanceof Error ? error.message : String(error);
        this.status.set({ state: 'error', message: `the server did not start: ${reason}`,
          settings: [COMMAND_SETTING] });
        this.notifyOnce(`start:${command.join('\0')}`,
          `deepfim: \`${command.join(' ')}\` did not start a language server (${reason}). ` +
          'Check "deepfim.serverCommand" (it must run `deepfim serve`); the log has the server\'s output.',
          `${OPEN_SETTING}${COMMAND_SETTING}`, 'Show Log');
      }
      try {
        await client.dispose(2000);
      } catch {
        // the process never ran
      }
      if (this.client === client) {
        this.client = undefined;
      }
    }
  }

  /** After each start of the server, by us or by the client after a crash: the client has registered
   *  every feature the server offers (the suggest widget's provider too), and the settings changed
   *  since initializationOptions went out (the server takes a while to answer `initialize`) are not
   *  sent yet. */
  private started(client: DeepfimClient): void {
    if (this.client !== client || !client.isRunning()) {
      return;
    }
    this.completionFeature = true; // the client registered it (initialize() again would add a second one)
    this.syncCompletionProvider();
    this.sendSettings(client);
  }

  /** Whether the server's `textDocument/completion` provider is registered with VS Code. */
  private completionFeature: boolean | undefined;

  /** Register the server's dropdown completion provider only when deepfim.showInSuggestWidget
   *  asks for it. Besides cluttering the suggest widget, a registered completion provider makes
   *  VS Code (editor.quickSuggestions "offWhenInlineCompletions", the default since 1.10x) give
   *  inline completions just 750 ms before it stops them and opens the suggest widget instead:
   *  too short for a model on a CPU. No restart: the feature is cleared or initialized again. */
  private syncCompletionProvider(): void {
    const client = this.client;
    const capabilities = client?.initializeResult?.capabilities;
    const want = showInSuggestWidget();
    if (!client || !capabilities?.completionProvider || want === this.completionFeature) {
      return;
    }
    const feature = client.getFeature(CompletionRequest.method);
    if (want) {
      feature.initialize(capabilities, client.clientOptions.documentSelector);
    } else {
      feature.clear();
    }
    this.completionFeature = want;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.dispose(2000);
      } catch (error) {
        this.log.appendLine(`stopping the server: ${String(error)}`);
      }
    }
  }

  async restart(): Promise<void> {
    const starts = this.starts;
    await this.stop();
    if (this.starts === starts) { // (else a start while it stopped the server runs the one wanted now)
      await this.start();
    }
  }

  // ------------------------------------------------------------------ settings
  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    this.log.info(`settings changed: ${JSON.stringify(serverSettings())}, command ${JSON.stringify(serverCommand())}`);
    const commandChanged = JSON.stringify(serverCommand()) !== JSON.stringify(this.command);
    if (commandChanged || JSON.stringify(sentSettings()) !== this.lastSent) {
      this.notified.clear(); // an attempt at a fix: a problem it leaves is told again
    }
    if (event.affectsConfiguration(`${SECTION}.serverCommand`) && commandChanged) {
      void this.restart();
      return;
    }
    this.status.render();
    this.syncCompletionProvider();
    const client = this.client;
    if (client) {
      this.sendSettings(client); // (if not running yet, when it runs)
    } else if (JSON.stringify(sentSettings()) !== this.lastSent) {
      // Not running (e.g. the command was missing): a settings change is a good moment to try again.
      void this.start();
    }
  }

  /** Send the settings of now to the server if it runs and was last told other ones. */
  private sendSettings(client: DeepfimClient): void {
    if (!client.isRunning()) {
      return;
    }
    const settings = sentSettings();
    const text = JSON.stringify(settings);
    if (text === this.lastSent) {
      return;
    }
    this.lastSent = text;
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: settings } });
  }

  // ------------------------------------------------------------------ commands
  private async toggle(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const enabled = config.get<boolean>('enable') !== false;
    await config.update('enable', !enabled, effectiveTarget('enable'));  // so that the toggle always takes effect
    vscode.window.setStatusBarMessage(`deepfim: completions ${enabled ? 'disabled' : 'enabled'}`, 3000);
  }

  private async pull(name?: string): Promise<void> {
    if (Extension.untrusted(cliCommand()[0])) {
      this.refuseUntrusted(cliCommand()[0], true);
      return;
    }
    if (!findProgram(cliCommand()[0], process.env, this.cwd())) {
      this.notInstalled(cliCommand(), true);
      return;
    }
    let defaultName: string | undefined;
    if (typeof name !== 'string' || !name) {
      const suggested = pullSuggestion(this.status.current.message)
        ?? (serverSettings().model && !/[/\\]|\.gguf$/i.test(serverSettings().model ?? '') ? serverSettings().model ?? undefined : undefined);
      const picked = await pickModel(suggested, this.cwd());
      if (!picked) {
        return;
      }
      ({ name, defaultName } = picked);
    }
    const pulled = await pullModel(name, this.log, (line) => pullFailed(name ?? '', line, settingNames(this.manifest)),
      this.cwd());
    if (!pulled) {
      return;
    }
    // The model the server loads where deepfim.model is empty: the catalog's default, or the one its error asked for.
    const use = pulledModelUse(name, serverSettings(), defaultName ?? pullSuggestion(this.status.current.message));
    if (use.inUse) {
      void vscode.window.showInformationMessage(`deepfim: pulled ${name}; reloading the server.`);
      this.notified.clear();
      await this.restart();
    } else {
      const button = use.setting === 'instructModel' ? 'Use for code actions' : 'Use this model';
      const answer = await vscode.window.showInformationMessage(`deepfim: pulled ${name}.`, button);
      if (answer === button) {
        // Where the model is set (a workspace's setting overrode the user's, which then changed nothing).
        await vscode.workspace.getConfiguration(SECTION).update(use.setting, name, effectiveTarget(use.setting));
      }
    }
  }

  private async showLastPrompt(): Promise<void> {
    // The file in focus; from a shown prompt or explanation, the file it is about (its URI's query).
    const active = vscode.window.activeTextEditor;
    const about = active?.document.uri.scheme === SCHEME ? active.document.uri.query : undefined;
    const files = [active, ...vscode.window.visibleTextEditors]
      .filter((e): e is vscode.TextEditor => e !== undefined && SCHEMES.includes(e.document.uri.scheme));
    const editor = files.find((e) => e.document.uri.toString() === about) ?? files[0];
    if (!editor) {
      void vscode.window.showInformationMessage('deepfim: open the file whose last completion you want to see.');
      return;
    }
    const client = this.client;
    if (!client?.isRunning()) {
      void vscode.window.showInformationMessage('deepfim: the server is not running.');
      return;
    }
    const explanation = await client.sendRequest<Explanation | null>('deepfim/explain',
      { textDocument: { uri: client.code2ProtocolConverter.asUri(editor.document.uri) } });
    await this.prompts.show(explanation, editor.document);
  }

  private async menu(): Promise<void> {
    const enabled = serverSettings().enabled;
    const s = this.status.current;
    const items: (vscode.QuickPickItem & { run: () => unknown })[] = [
      { label: enabled ? '$(circle-slash) Disable completions' : '$(check) Enable completions', run: () => this.toggle() },
      { label: '$(sparkle) Trigger completion', run: () => vscode.commands.executeCommand('deepfim.trigger') },
      { label: '$(output) Show last prompt', run: () => this.showLastPrompt() },
      { label: '$(cloud-download) Pull a model…', run: () => this.pull() },
      { label: '$(debug-restart) Restart server', run: () => this.restart() },
      { label: '$(list-flat) Show log', run: () => this.log.show(true) },
      { label: '$(settings-gear) Settings', run: () => this.act('Open Settings') },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: `deepfim: ${s.state}`, placeHolder: s.message });
    await picked?.run();
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

let extension: Extension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new Extension(context.extension.packageJSON);
  context.subscriptions.push(extension);
  await extension.start();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
