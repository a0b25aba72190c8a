--- deepfim: ghost text from textDocument/inlineCompletion.
---
--- One suggestion at a time, anchored where it was requested: `text` is what the server would
--- insert there. While the user types characters that the suggestion predicted, the shown text is
--- trimmed locally (no new request, no flicker); anything else clears it.
local api = vim.api
local config = require("deepfim.config")
local lsp = require("deepfim.lsp")

local M = {}

M.ns = api.nvim_create_namespace("deepfim.suggestion")
M.enabled = true

--- Counters for tests and debugging.
M.stats = { requests = 0, responses = 0, shown = 0, trimmed = 0, cleared = 0, cancelled = 0 }

local uv = vim.uv or vim.loop
local has_inline = vim.fn.has("nvim-0.10") == 1

--- The suggestion shown now:
--- { buf, win, row (0-based), col (byte), prefix, suffix, line_count, text, typed, extmark }
local current = nil
--- The request in flight: { client, id, buf }
local inflight = nil
local timer = nil
--- Last changedtick seen per buffer (to tell typing from cursor moves).
local ticks = {}
--- Window, buffer and cursor at the last event.
local last_position = nil

local function opts()
  return config.options.suggestion or config.defaults.suggestion
end

local function in_insert_mode()
  local mode = api.nvim_get_mode().mode
  return mode == "i" or mode == "ic" or mode == "ix"
end

local function stop_timer()
  if timer then
    timer:stop()
    if not timer:is_closing() then
      timer:close()
    end
    timer = nil
  end
end

local function cancel_inflight()
  if inflight then
    lsp.cancel(inflight.client, inflight.id)
    M.stats.cancelled = M.stats.cancelled + 1
    inflight = nil
  end
end

--- Remove the ghost text (the suggestion is forgotten).
function M.clear()
  if current then
    if api.nvim_buf_is_valid(current.buf) then
      pcall(api.nvim_buf_del_extmark, current.buf, M.ns, current.extmark or -1)
      api.nvim_buf_clear_namespace(current.buf, M.ns, 0, -1)
    end
    current = nil
    M.stats.cleared = M.stats.cleared + 1
  end
end

--- Clear the ghost text and forget any pending or running request.
function M.reset()
  stop_timer()
  cancel_inflight()
  M.clear()
end

--- `text` with its tabs as the spaces they will take once inserted, the text starting at display
--- column `start` (virtual text would show a tab as one raw cell).
local function display(text, start)
  if not text:find("\t", 1, true) then
    return text
  end
  local ts = vim.bo.tabstop > 0 and vim.bo.tabstop or 8
  local parts, vcol, pos = {}, start or 0, 1
  while true do
    local tab = text:find("\t", pos, true)
    local piece = text:sub(pos, tab and tab - 1 or -1)
    parts[#parts + 1] = piece
    if not tab then
      break
    end
    vcol = vcol + vim.fn.strdisplaywidth(piece)
    local width = ts - vcol % ts
    parts[#parts + 1] = string.rep(" ", width)
    vcol = vcol + width
    pos = tab + 1
  end
  return table.concat(parts)
end

--- The suggestion's text not typed yet.
local function remaining(s)
  return s.text:sub(#s.typed + 1)
end

local function render(s)
  local rest = remaining(s)
  local lines = vim.split(rest, "\n", { plain = true })
  local hl = opts().hl_group or "DeepfimSuggestion"
  local row, col = api.nvim_win_get_cursor(0)[1] - 1, api.nvim_win_get_cursor(0)[2]
  local mark = { id = s.extmark, hl_mode = "combine", priority = 65535, right_gravity = true }
  if lines[1] ~= "" then
    -- (the display column of the cursor: where the text starts)
    local start = vim.fn.strdisplaywidth(api.nvim_get_current_line():sub(1, col))
    mark.virt_text = { { display(lines[1], start), hl } }
    if has_inline then
      mark.virt_text_pos = "inline"
    else
      mark.virt_text_pos = col >= #api.nvim_get_current_line() and "overlay" or "eol"
    end
  end
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      virt_lines[#virt_lines + 1] = { { display(lines[i], 0), hl } }
    end
    mark.virt_lines = virt_lines
  end
  if api.nvim__ns_set then
    -- Only in the suggestion's window: another window on the buffer (:split) has its cursor elsewhere,
    -- and the text would appear in the middle of its code.
    pcall(api.nvim__ns_set, M.ns, { wins = { s.win } })
  end
  local ok, id = pcall(api.nvim_buf_set_extmark, s.buf, M.ns, row, col, mark)
  if ok then
    s.extmark = id
  end
end

--- What was typed since the suggestion was anchored, if the buffer and cursor still agree with it
--- (the anchor line's text before the anchor and the text after the cursor are unchanged, the
--- cursor is at or after the anchor, and the typed text is a prefix of the suggestion); else nil.
local function typed_since(s)
  local buf = api.nvim_get_current_buf()
  if buf ~= s.buf or api.nvim_get_current_win() ~= s.win then
    return nil
  end
  local cursor = api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  if row < s.row or row - s.row > 200 then
    return nil
  end
  if api.nvim_buf_line_count(buf) - s.line_count ~= row - s.row then
    return nil
  end
  local lines = api.nvim_buf_get_lines(buf, s.row, row + 1, false)
  local first, last = lines[1], lines[#lines]
  if first == nil or first:sub(1, #s.prefix) ~= s.prefix then
    return nil
  end
  if last:sub(col + 1) ~= s.suffix then
    return nil
  end
  local typed
  if #lines == 1 then
    if col < #s.prefix then
      return nil
    end
    typed = first:sub(#s.prefix + 1, col)
  else
    local parts = { first:sub(#s.prefix + 1) }
    for i = 2, #lines - 1 do
      parts[#parts + 1] = lines[i]
    end
    parts[#parts + 1] = last:sub(1, col)
    typed = table.concat(parts, "\n")
  end
  if s.text:sub(1, #typed) ~= typed then
    return nil
  end
  return typed
end

local function show(buf, text)
  M.clear()
  local cursor = api.nvim_win_get_cursor(0)
  local line = api.nvim_get_current_line()
  current = {
    buf = buf,
    win = api.nvim_get_current_win(),
    row = cursor[1] - 1,
    col = cursor[2],
    prefix = line:sub(1, cursor[2]),
    suffix = line:sub(cursor[2] + 1),
    line_count = api.nvim_buf_line_count(buf),
    text = text,
    typed = "",
  }
  render(current)
  M.stats.shown = M.stats.shown + 1
  pcall(api.nvim_exec_autocmds, "User", { pattern = "DeepfimSuggestion", modeline = false })
end

local function byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_byteindex(line, encoding, character, false)
  end
  local ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  return ok and col or #line
end

--- The text to show at the cursor for one InlineCompletionItem, or nil.
local function item_text(item, cursor_row, cursor_col, line, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value
  end
  if type(text) ~= "string" or text == "" then
    return nil
  end
  text = text:gsub("\r\n", "\n")
  local range = item.range
  if type(range) == "table" and range.start and range["end"] then
    local s, e = range.start, range["end"]
    if s.line ~= cursor_row or e.line ~= cursor_row then
      return nil
    end
    local start_col = byte_col(line, s.character, encoding)
    local end_col = byte_col(line, e.character, encoding)
    if end_col ~= cursor_col or start_col > cursor_col then
      return nil
    end
    -- The item replaces text before the cursor: show only what it adds.
    local replaced = line:sub(start_col + 1, cursor_col)
    if text:sub(1, #replaced) ~= replaced then
      return nil
    end
    text = text:sub(#replaced + 1)
  end
  if text == "" then
    return nil
  end
  return text
end

--- Ask the server for a suggestion at the cursor now.
--- @param manual boolean? true when the user asked (trigger kind Invoked)
function M.request(manual)
  stop_timer()
  cancel_inflight()
  if not M.enabled or not in_insert_mode() then
    return false
  end
  local buf = api.nvim_get_current_buf()
  local client = lsp.client(buf)
  if not client and manual then
    lsp.start(buf) -- after the server exited: asked for, it starts again (and LspAttach asks then)
  end
  if not client or client.initialized == false then
    return false
  end
  local win = api.nvim_get_current_win()
  local cursor = api.nvim_win_get_cursor(win)
  local encoding = client.offset_encoding or "utf-16"
  local params = vim.lsp.util.make_position_params(win, encoding)
  params.context = { triggerKind = manual and 1 or 2 }
  local tick = api.nvim_buf_get_changedtick(buf)
  local request = { client = client, buf = buf }
  local ok, id = lsp.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if inflight ~= request then
      return
    end
    inflight = nil
    M.stats.responses = M.stats.responses + 1
    if err or type(result) ~= "table" then
      return
    end
    if not api.nvim_buf_is_valid(buf) or api.nvim_get_current_buf() ~= buf
      or api.nvim_get_current_win() ~= win or not in_insert_mode() or not M.enabled
      or api.nvim_buf_get_changedtick(buf) ~= tick then
      return
    end
    local now = api.nvim_win_get_cursor(win)
    if now[1] ~= cursor[1] or now[2] ~= cursor[2] then
      return
    end
    local items = result.items or result
    local line = api.nvim_get_current_line()
    for _, item in ipairs(items) do
      local text = item_text(item, cursor[1] - 1, cursor[2], line, encoding)
      if text then
        show(buf, text)
        return
      end
    end
  end, buf)
  if ok and id then
    request.id = id
    inflight = request
    M.stats.requests = M.stats.requests + 1
    return true
  end
  return false
end

--- Ask after the debounce delay (restarted by every call).
function M.schedule()
  stop_timer()
  cancel_inflight()
  if not M.enabled or not opts().auto_trigger then
    return
  end
  local this = uv.new_timer()
  timer = this
  this:start(math.max(0, opts().debounce or 75), 0, vim.schedule_wrap(function()
    if timer ~= this then
      return -- replaced or stopped meanwhile
    end
    stop_timer()
    M.request(false)
  end))
end

--- React to a text change or cursor move in insert mode.
function M.on_change(args)
  local buf = api.nvim_get_current_buf()
  local tick = api.nvim_buf_get_changedtick(buf)
  local cursor = api.nvim_win_get_cursor(0)
  local here = ("%d:%d:%d:%d"):format(api.nvim_get_current_win(), buf, cursor[1], cursor[2])
  local changed = ticks[buf] ~= tick
  local moved = last_position ~= here
  ticks[buf] = tick
  last_position = here
  local entering = args ~= nil and args.event == "InsertEnter" -- (the mode is still "n" then)
  if not changed and not moved and not entering then
    return
  end
  if not M.enabled or not (entering or in_insert_mode()) or lsp.client(buf) == nil then
    M.reset()
    return
  end
  if current then
    local typed = typed_since(current)
    if typed then
      if typed ~= current.typed then
        if #typed >= #current.text then
          M.clear()
          M.schedule()
        else
          current.typed = typed
          render(current)
          M.stats.trimmed = M.stats.trimmed + 1
        end
      end
      return
    end
    M.clear()
  end
  if changed or entering then
    M.schedule()
  else
    stop_timer()
    cancel_inflight()
  end
end

--- The suggestion text not typed yet, or nil when none is shown.
function M.get()
  if not current then
    return nil
  end
  local typed = typed_since(current)
  if typed == nil or not in_insert_mode() then
    return nil
  end
  local rest = current.text:sub(#typed + 1)
  if rest == "" then
    return nil
  end
  return rest
end

local function next_word(rest)
  if rest:sub(1, 1) == "\n" then
    return rest:match("^\n[ \t]*")
  end
  return rest:match("^[ \t]*[%w_\128-\255]+") or rest:match("^[ \t]*[^%w_\128-\255%s]+")
    or rest:match("^[ \t]+") or rest:sub(1, 1)
end

local function next_line(rest)
  if rest:sub(1, 1) == "\n" then
    return "\n" .. rest:sub(2):match("^[^\n]*")
  end
  return rest:match("^[^\n]*")
end

--- Insert the whole suggestion ("all"), its next word or the rest of its line at the cursor.
--- Returns true when something was inserted.
function M.accept(kind)
  local rest = M.get()
  if not rest then
    return false
  end
  local part = rest
  if kind == "word" then
    part = next_word(rest)
  elseif kind == "line" then
    part = next_line(rest)
  end
  if not part or part == "" then
    return false
  end
  local s = current
  stop_timer()
  cancel_inflight()
  -- As a paste: literally (no auto-indent, 'textwidth' or comment leaders), the cursor after it,
  -- and part of the insert that `.` repeats (nvim_buf_set_text left it out). (What a user's own
  -- vim.paste answers is not whether the text went in: the buffer says.)
  local before = api.nvim_buf_get_changedtick(s.buf)
  api.nvim_paste(part, false, -1)
  if api.nvim_buf_get_changedtick(s.buf) == before then
    return false
  end
  ticks[s.buf] = api.nvim_buf_get_changedtick(s.buf)
  local now = typed_since(s)
  if now and #now < #s.text then
    s.typed = now
    render(s)
  else
    M.clear()
  end
  return true
end

function M.dismiss()
  local shown = current ~= nil
  M.reset()
  return shown
end

local augroup = api.nvim_create_augroup("deepfim.suggestion", { clear = true })

function M.setup()
  api.nvim_clear_autocmds({ group = augroup })
  require("deepfim").define_highlights()
  if opts().native and vim.lsp.inline_completion then
    return -- Neovim's own inline completion shows them (without it, setup() warned: ours do)
  end
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP", "CursorMovedI", "InsertEnter" }, {
    group = augroup,
    callback = function(args)
      M.on_change(args)
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave", "WinLeave" }, {
    group = augroup,
    callback = function()
      M.reset()
    end,
  })
  -- Only the suggestion's own buffer: floats (signature help, notifications) wipe theirs as the user types.
  api.nvim_create_autocmd("BufUnload", {
    group = augroup,
    callback = function(args)
      if (current and current.buf == args.buf) or (inflight and inflight.buf == args.buf) then
        M.reset()
      end
    end,
  })
  api.nvim_create_autocmd("ModeChanged", {
    group = augroup,
    callback = function()
      if not in_insert_mode() then
        M.reset()
      end
    end,
  })
  api.nvim_create_autocmd({ "TextChanged", "CursorMoved" }, {
    group = augroup,
    callback = function()
      if current then
        M.reset()
      end
    end,
  })
  api.nvim_create_autocmd("LspAttach", {
    group = augroup,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == lsp.name and args.buf == api.nvim_get_current_buf() and in_insert_mode() then
        M.schedule()
      end
    end,
  })
end

return M
