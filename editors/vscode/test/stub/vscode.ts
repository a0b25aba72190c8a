// A stand-in for the `vscode` module in `npm test` (esbuild's --alias): the few APIs the extension
// uses, with the settings in `settings` and configuration events fired by `changeSettings`.

type Listener<T> = (value: T) => unknown;

const disposable = { dispose: (): void => undefined };

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): typeof disposable => {
    this.listeners.push(listener);
    return { dispose: () => void (this.listeners = this.listeners.filter((other) => other !== listener)) };
  };

  fire(value: T): void {
    for (const listener of this.listeners) {
      listener(value);
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}

/** The `deepfim.*` settings, without the `deepfim.` prefix. */
export const settings = new Map<string, unknown>();
const configurationChanged = new EventEmitter<{ affectsConfiguration: (section: string) => boolean }>();

/** Where each setting is set, as `inspect` tells it besides the user's settings (`settings`). */
export const inspections = new Map<string, { workspaceValue?: unknown; workspaceFolderValue?: unknown }>();

/** Change settings and fire onDidChangeConfiguration for them. */
export function changeSettings(changes: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(changes)) {
    settings.set(key, value);
  }
  const keys = Object.keys(changes).map((key) => `deepfim.${key}`);
  configurationChanged.fire({
    affectsConfiguration: (section) => keys.some((key) => key === section || key.startsWith(`${section}.`)),
  });
}

/** Fires workspace.onDidOpenTextDocument (VS Code: also for a document whose language changed). */
export const documentOpened = new EventEmitter<unknown>();

/** The `deepfim.*` settings of workspace folders (a multi-root workspace), by the folder's URI. */
export const folderSettings = new Map<string, Map<string, unknown>>();

/** The value of a folder's setting for a resource in that folder, if its folder sets it. */
function inFolder(key: string, scope?: { uri?: { toString(): string } }): { value?: unknown } | undefined {
  const uri = scope?.uri?.toString();
  const folder = [...folderSettings].find(([folderUri, values]) => uri?.startsWith(`${folderUri}/`) && values.has(key));
  return folder && { value: folder[1].get(key) };
}

export const workspace = {
  workspaceFolders: undefined as undefined | { uri: { scheme: string; fsPath: string } }[],
  isTrusted: true,
  onDidGrantWorkspaceTrust: () => disposable,
  getConfiguration: (section: string, scope?: { uri?: { toString(): string } }) => ({
    get: <T>(key: string): T | undefined => (section === 'deepfim'
      ? (inFolder(key, scope) ?? { value: settings.get(key) }).value as T : undefined),
    inspect: (key: string) => (section === 'deepfim'
      ? { globalValue: settings.get(key), ...inspections.get(key) } : undefined),
    update: async (key: string, value: unknown) => changeSettings({ [key]: value }),
  }),
  onDidChangeConfiguration: configurationChanged.event,
  onDidOpenTextDocument: documentOpened.event,
  registerTextDocumentContentProvider: (scheme: string, provider: ContentProvider) => {
    contentProviders.set(scheme, provider);
    return disposable;
  },
  /** A Uri: its provider's text; `{ content }`: an untitled document, dirty (closing it asks to save it). */
  openTextDocument: async (from: Uri | { content?: string; language?: string }): Promise<ShownDocument> =>
    (from instanceof Uri
      ? { uri: from.toString(), isDirty: false,
        text: contentProviders.get(from.scheme)?.provideTextDocumentContent(from) ?? '' }
      : { uri: 'untitled:Untitled-1', isDirty: true, text: from.content ?? '' }),
};

type ContentProvider = { provideTextDocumentContent: (uri: Uri) => string };
const contentProviders = new Map<string, ContentProvider>();

/** A document as the stand-in opens it. */
export type ShownDocument = { uri: string; isDirty: boolean; text: string };

/** Every document shown in an editor. */
export const shownDocuments: ShownDocument[] = [];

export class Uri {
  private constructor(readonly scheme: string, readonly path: string, readonly query: string) {}

  static from(parts: { scheme: string; path?: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? '', parts.query ?? '');
  }

  toString(): string {
    return `${this.scheme}:${encodeURI(this.path)}${this.query ? `?${encodeURIComponent(this.query)}` : ''}`;
  }
}

/** Every error notification shown, and its buttons. */
export const errorMessages: string[] = [];
export const errorButtons: string[][] = [];

/** Every warning notification shown. */
export const warningMessages: string[] = [];

/** Every information notification shown, with its buttons. */
export const informationMessages: { message: string; items: string[] }[] = [];

/** What the user answers: the button of an information notification, the item of a quick pick. */
export const answers: {
  information?: (message: string, items: string[]) => string | undefined;
  input?: () => string | undefined;
  quickPick?: (items: { label: string }[]) => { label: string } | undefined;
} = {};

/** Every status bar item made, for tests to read what it shows. */
export const statusItems: {
  text: string; tooltip?: { value: string }; accessibilityInformation?: { label: string };
}[] = [];

/** An editor as the stand-in knows it: its document's URI and language. */
export type Editor = {
  document: { uri: { scheme?: string; query?: string; path?: string; toString(): string }; languageId: string };
};

export const window = {
  activeTextEditor: undefined as undefined | Editor,
  visibleTextEditors: [] as Editor[],
  createOutputChannel: () => ({
    info: (): void => undefined, debug: (): void => undefined, append: (): void => undefined,
    appendLine: (): void => undefined,
    show: (): void => undefined, dispose: (): void => undefined,
  }),
  createStatusBarItem: () => {
    const item = { text: '', show: (): void => undefined, dispose: (): void => undefined };
    statusItems.push(item);
    return item;
  },
  onDidChangeActiveTextEditor: () => disposable,
  showTextDocument: async (document: ShownDocument): Promise<void> => void shownDocuments.push(document),
  showErrorMessage: async (message: string, ...items: string[]): Promise<undefined> => {
    errorMessages.push(message);
    errorButtons.push(items);
    return undefined;
  },
  showWarningMessage: async (message: string): Promise<undefined> => {
    warningMessages.push(message);
    return undefined;
  },
  showInformationMessage: async (message: string, ...items: string[]): Promise<string | undefined> => {
    informationMessages.push({ message, items });
    return answers.information?.(message, items);
  },
  showInputBox: async (): Promise<string | undefined> => answers.input?.(),
  showQuickPick: async <T extends { label: string }>(items: T[]): Promise<T | undefined> =>
    answers.quickPick?.(items) as T | undefined,
  withProgress: <R>(_options: unknown, task: (progress: unknown, token: unknown) => Promise<R>): Promise<R> =>
    task({ report: (): void => undefined },
      { isCancellationRequested: false, onCancellationRequested: () => disposable }),
};

export const languages = { registerCompletionItemProvider: () => disposable };

/** The extension's commands, by id. */
export const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
  registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
    commandHandlers.set(id, handler);
    return disposable;
  },
  executeCommand: async (): Promise<undefined> => undefined,
};

export class MarkdownString {
  value = '';
  isTrusted: unknown;
  constructor(value = '', readonly supportThemeIcons = false) {
    this.value = value;
  }

  appendText(text: string): this {
    this.value += text;
    return this;
  }

  appendMarkdown(text: string): this {
    this.value += text;
    return this;
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class CancellationTokenSource {
  private readonly cancelled = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.cancelled.event };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.cancelled.fire();
    }
  }

  dispose(): void {
    this.cancelled.dispose();
  }
}

export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }
export enum ViewColumn { Beside = -2 }
export enum ProgressLocation { Notification = 15 }
