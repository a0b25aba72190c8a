// A stand-in for `vscode-languageclient/node` in `npm test` (esbuild's --alias): a LanguageClient
// that starts no process; every one made is in `clients`, with whether it is running.

export enum CloseAction { DoNotRestart = 1, Restart = 2 }
export enum ErrorAction { Continue = 1, Shutdown = 2 }
export enum State { Stopped = 1, Starting = 3, Running = 2, StartFailed = 4 }
export enum MessageType { Error = 1, Warning = 2, Info = 3, Log = 4 }
export const CompletionRequest = { method: 'textDocument/completion' };
export const DidChangeConfigurationNotification = { type: 'workspace/didChangeConfiguration' };
export const ShowMessageNotification = { type: 'window/showMessage' };
export type ShowMessageParams = { type: MessageType; message: string };
export type ServerOptions = unknown;
export type LanguageClientOptions = {
  initializationOptions?: unknown;
  documentSelector?: unknown;
  errorHandler?: { closed: () => { action: CloseAction } | Promise<{ action: CloseAction }> };
  middleware?: {
    executeCommand?: (command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown) => unknown;
    provideInlineCompletionItems?: (document: unknown, position: unknown, context: unknown, token: unknown,
      next: (document: { uri: { toString(): string } }) => unknown) => unknown;
  };
};

export const clients: LanguageClient[] = [];

export class LanguageClient {
  running = false;
  disposed = false;
  /** The initializationOptions of each start (a restart after a crash starts again). */
  readonly initialized: unknown[] = [];
  readonly notifications: { type: unknown; params: unknown }[] = [];
  /** The server's capabilities (deepfim's has a completion provider). */
  initializeResult = { capabilities: { completionProvider: {} } };
  /** How many completion providers the completion feature has registered with VS Code: the real client
   *  registers one for every feature the server's capabilities name when it (re)starts, one more for
   *  each initialize() of the feature, and clears them all when it stops. */
  completionProviders = 0;
  private onStart: Promise<void> | undefined;
  constructor(readonly id: string, readonly name: string, readonly serverOptions: unknown,
    readonly clientOptions: LanguageClientOptions) {
    clients.push(this);
  }

  error(_message: string, _data?: unknown, _showNotification?: boolean | 'force'): void {}
  private readonly handlers = new Map<unknown, (params: unknown) => void>();
  onNotification(type: unknown, handler: (params: unknown) => void): void {
    this.handlers.set(type, handler);
  }

  /** A notification from the server (`window/showMessage`, `deepfim/status`). */
  receive(type: unknown, params: unknown): void {
    this.handlers.get(type)?.(params);
  }
  private stateListeners: ((event: { oldState: State; newState: State }) => void)[] = [];
  onDidChangeState(listener: (event: { oldState: State; newState: State }) => void): void {
    this.stateListeners.push(listener);
  }

  private changeState(oldState: State, newState: State): void {
    for (const listener of this.stateListeners) {
      listener({ oldState, newState });
    }
  }

  /** The server exited and the client's restart could not start it again (the program is gone). */
  failRestart(): void {
    this.running = false;
    this.changeState(State.Starting, State.StartFailed);
  }

  /** What the real client sends as initializationOptions when it (re)starts the server. */
  private options(): unknown {
    const options = this.clientOptions.initializationOptions;
    return typeof options === 'function' ? options() : options;
  }

  /** As the real client: Starting, the initializationOptions, the server's answer a while later,
   *  Running, then the features (and only then is start's promise resolved, the same promise for a
   *  start() called meanwhile). */
  start(): Promise<void> {
    if (this.onStart === undefined) {
      this.onStart = (async () => {
        this.changeState(State.Stopped, State.Starting);
        this.initialized.push(this.options());
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.running = !this.disposed;
        if (this.running) {
          this.changeState(State.Starting, State.Running);
          await new Promise((resolve) => setTimeout(resolve, 1)); // the `initialized` notification
          this.completionProviders = this.initializeResult.capabilities.completionProvider !== undefined ? 1 : 0;
        }
      })();
    }
    return this.onStart;
  }

  /** The server exited: as the real client, ask the close handler, then restart or stop. */
  async crash(): Promise<void> {
    this.running = false;
    const handled = await this.clientOptions.errorHandler?.closed();
    if (handled?.action === CloseAction.Restart) {
      await this.restartAfterCrash();
    } else {
      this.completionProviders = 0;
      this.onStart = undefined;
      this.changeState(State.Running, State.Stopped);
    }
  }

  /** The server exited and the client's close handler asked for a restart: as the real client, the state
   *  goes to Stopped (the client's Initial), then the start's Starting and Running. */
  async restartAfterCrash(): Promise<void> {
    this.running = false;
    this.completionProviders = 0;
    this.onStart = undefined;
    this.changeState(State.Running, State.Stopped);
    await this.start();
  }

  async dispose(_timeout?: number): Promise<void> {
    this.disposed = true;
    this.completionProviders = 0;
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.running = false;
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Every request sent, with its parameters; answered with null. */
  readonly requests: { method: string; params: unknown }[] = [];
  async sendRequest(method: string, params: unknown): Promise<null> {
    this.requests.push({ method, params });
    return null;
  }

  readonly code2ProtocolConverter = { asUri: (uri: { toString(): string }): string => uri.toString() };

  async sendNotification(type: unknown, params: unknown): Promise<void> {
    this.notifications.push({ type, params });
  }

  getFeature(): { initialize: () => void; clear: () => void } {
    return { initialize: () => void (this.completionProviders += 1), clear: () => void (this.completionProviders = 0) };
  }
}
