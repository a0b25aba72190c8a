--- deepfim: code actions on a selection (edit with an instruction, add a docstring, fix, explain,
--- write tests), offered by the server and chosen with vim.lsp.buf.code_action(). The server's
--- `deepfim.edit` command runs here first: the instruction is asked with vim.ui.input when the
--- action needs one, explanations open in a scratch window, and edits come back from the server as
--- `workspace/applyEdit`, which Neovim applies. See :help deepfim-actions.
local lsp = require("deepfim.lsp")

local M = {}

M.command = "deepfim.edit"
M.explanation_name = "deepfim://explanation"
--- The result of the last command ({ applied, edit?, explanation?, reason?, ... }), for tests.
M.last = nil

--- Show `text` in the explanation window (a scratch markdown buffer below the current window,
--- which stays current).
function M.show_explanation(text)
  local buf = vim.fn.bufnr(M.explanation_name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, M.explanation_name)
    vim.bo[buf].bufhidden = "hide"
    vim.keymap.set("n", "q", "<Cmd>close<CR>", { buffer = buf, nowait = true, desc = "deepfim: close" })
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, "\n", { plain = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "markdown"
  if vim.fn.bufwinid(buf) == -1 then
    if vim.fn.has("nvim-0.10") == 1 then
      vim.api.nvim_open_win(buf, false, { split = "below", height = math.min(15, math.max(3, math.floor(#text / 60) + 2)) })
    else
      local win = vim.api.nvim_get_current_win()
      vim.cmd("botright split")
      vim.api.nvim_win_set_buf(0, buf)
      vim.api.nvim_set_current_win(win)
    end
  end
  return buf
end

local function send(client, bufnr, argument, callback)
  local params = { command = M.command, arguments = { argument } }
  lsp.request(client, "workspace/executeCommand", params, function(err, result)
    local in_nvim_terms = require("deepfim.hints").in_nvim_terms
    if err then
      M.last = { applied = false, reason = err.message or tostring(err) }
      vim.notify("deepfim: " .. in_nvim_terms(M.last.reason), vim.log.levels.ERROR)
    else
      M.last = result or {}
      if argument.action == "explain" and M.last.explanation then
        M.show_explanation(M.last.explanation)
      elseif M.last.applied == false and M.last.reason and M.last.reason ~= "cancelled" then
        vim.notify("deepfim: not applied: " .. in_nvim_terms(M.last.reason), vim.log.levels.WARN)
      end
    end
    if callback then
      callback(M.last)
    end
  end, bufnr)
end

--- Run `deepfim.edit` with `argument` ({ textDocument, range, action?, instruction? }) on
--- `client`: asks for the instruction first when there is none.
function M.execute(client, bufnr, argument, callback)
  argument = vim.deepcopy(argument)
  if argument.action == "explain" then
    argument.show = false -- shown here, not as a message
  end
  if type(argument.instruction) == "string" and vim.trim(argument.instruction) ~= "" then
    return send(client, bufnr, argument, callback)
  end
  vim.ui.input({ prompt = "deepfim: instruction: " }, function(input)
    if input and vim.trim(input) ~= "" then
      argument.instruction = input
      send(client, bufnr, argument, callback)
    end
  end)
end

--- The client-side handler of the `deepfim.edit` command (vim.lsp.ClientConfig `commands`).
function M.run(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local argument = (command.arguments or {})[1]
  if client and type(argument) == "table" then
    M.execute(client, ctx.bufnr, argument)
  end
end

M.commands = { [M.command] = M.run }

local function utf16_length(text)
  local ok, length = pcall(vim.str_utfindex, text, "utf-16") -- Neovim 0.11+
  if ok and type(length) == "number" then
    return length
  end
  local _, utf16 = vim.str_utfindex(text)
  return utf16
end

--- Edit lines `first`..`last` (1-based) of `bufnr` with `instruction` (asked when nil), as the
--- "Edit with instruction..." code action does: `:'<,'>DeepfimEdit add type hints`.
function M.edit_lines(bufnr, first, last, instruction, callback)
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  local client = lsp.client(bufnr)
  if not client then
    vim.notify("deepfim: no deepfim server serves this buffer", vim.log.levels.WARN)
    return
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  local finish = { line = last, character = 0 }
  if last >= count then -- the last line: up to its end
    local text = vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] or ""
    finish = { line = count - 1, character = utf16_length(text) }
  end
  M.execute(client, bufnr, {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = first - 1, character = 0 }, ["end"] = finish },
    action = "edit",
    instruction = instruction,
  }, callback)
end

return M
