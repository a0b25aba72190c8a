import * as vscode from 'vscode';

/** The server's command behind every deepfim code action (lightbulb, Quick Fix and Refactor menus):
 *  "Edit with instruction...", "Add docstring", "Fix", "Explain", "Write tests". */
export const EDIT_COMMAND = 'deepfim.edit';

/** `deepfim.edit`'s argument: `{ textDocument: { uri }, range, action?, instruction?, show? }`. */
export interface EditArgument {
  textDocument: { uri: string };
  range: unknown;
  action?: string;
  instruction?: string;
  show?: boolean;
}

/** What the server answers: the edit is already applied (by its `workspace/applyEdit`) when
 *  `applied` is true; an explanation is for showing. */
export interface EditResult {
  applied?: boolean;
  edit?: string;
  explanation?: string;
  reason?: string;
  model?: string;
}

type Next = (command: string, args: unknown[]) => vscode.ProviderResult<unknown>;

/** The language client's executeCommand middleware for `deepfim.edit`: asks for the instruction
 *  with an input box when the action has none and has explanations shown (`explain`: the document's URI
 *  and the answer). The server streams its progress (a cancellable notification) and says itself why an
 *  edit was not applied (window/showMessage). */
export async function executeEdit(args: unknown[], next: Next,
  explain: (uri: string, explanation: string) => Promise<void>): Promise<EditResult | undefined> {
  const argument: EditArgument = { ...(args[0] as EditArgument) };
  if (argument.action === 'explain') {
    argument.show = false; // shown here, in a document, not as a notification
  }
  if (!argument.instruction?.trim()) {
    const instruction = await vscode.window.showInputBox({
      title: 'deepfim: Edit with instruction',
      prompt: 'What should change in the selection?',
      placeHolder: 'e.g. add type hints',
      ignoreFocusOut: true,
    });
    if (!instruction?.trim()) {
      return undefined;
    }
    argument.instruction = instruction;
  }
  const result = (await next(EDIT_COMMAND, [argument])) as EditResult | undefined;
  if (argument.action === 'explain' && typeof result?.explanation === 'string') {
    await explain(argument.textDocument.uri, result.explanation);
  }
  return result;
}
