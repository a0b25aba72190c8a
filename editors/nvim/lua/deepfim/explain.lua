--- deepfim: :DeepfimExplain, the prompt and timings of the last completion in a float that leaves
--- the cursor where it is (running it again while it is open focuses it; q in it closes it).
local api = vim.api
local lsp = require("deepfim.lsp")

local M = {}

local function value(v)
  if v == nil or v == vim.NIL then
    return nil
  end
  return v
end

local function indent(lines, text, prefix)
  for _, line in ipairs(vim.split(text, "\n", { plain = true })) do
    lines[#lines + 1] = prefix .. line
  end
end

--- The lines of the explain buffer for one `deepfim/explain` result.
function M.format(result, name)
  local lines = {}
  lines[#lines + 1] = "deepfim: last completion for " .. name
  lines[#lines + 1] = ""
  lines[#lines + 1] = "model: " .. tostring(value(result.model) or "?")
  local completion = value(result.completion) or ""
  if completion == "" then
    lines[#lines + 1] = "completion: (empty)"
  else
    lines[#lines + 1] = "completion:"
    indent(lines, completion, "  │ ")
  end
  lines[#lines + 1] = ""
  local timings = value(result.timings) or {}
  lines[#lines + 1] = "timings:"
  local order = { "prompt_tokens_evaluated", "prompt_tokens_reused", "generated_tokens", "prompt_ms",
    "generate_ms", "total_ms" }
  local seen = {}
  local function timing(key)
    local v = value(timings[key])
    if v ~= nil then
      seen[key] = true
      local shown = type(v) == "number" and key:match("_ms$") and ("%.1f ms"):format(v) or tostring(v)
      lines[#lines + 1] = ("  %-26s %s"):format(key:gsub("_", " "), shown)
    end
  end
  for _, key in ipairs(order) do
    timing(key)
  end
  local others = vim.tbl_keys(timings)
  table.sort(others)
  for _, key in ipairs(others) do
    if not seen[key] then
      timing(key)
    end
  end
  lines[#lines + 1] = ""
  local prompt = value(result.prompt) or {}
  local segments = value(prompt.segments) or {}
  local ids = value(prompt.token_ids) or {}
  local total = 0
  for _, segment in ipairs(segments) do
    total = total + (tonumber(value(segment.tokens)) or 0)
  end
  lines[#lines + 1] = ("prompt: %d tokens (%d token ids) in %d segments"):format(total, #ids, #segments)
  for i, segment in ipairs(segments) do
    local kind = value(segment.kind) or "?"
    local source = value(segment.source)
    local tokens = tonumber(value(segment.tokens)) or 0
    lines[#lines + 1] = ""
    lines[#lines + 1] = ("── %d. [%s]%s  %d token%s"):format(i, kind, source and (" " .. source) or "", tokens,
      tokens == 1 and "" or "s")
    local text = value(segment.text) or ""
    if kind == "control" then
      lines[#lines + 1] = "  " .. vim.inspect(text)
    else
      indent(lines, text, "  │ ")
    end
  end
  return lines
end

--- The explain window (a float), or nil.
M.win = nil

local function shown()
  local win = M.win
  if win and api.nvim_win_is_valid(win) then
    return win
  end
  return nil
end

--- Close the explain window (q in it).
function M.close()
  local win = shown()
  if win then
    pcall(api.nvim_win_close, win, true)
  end
  M.win = nil
end

local function scratch(lines)
  local name = "deepfim://explain"
  local buf = vim.fn.bufnr(name)
  if buf == -1 or not api.nvim_buf_is_valid(buf) then
    buf = api.nvim_create_buf(false, true)
    api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "deepfim-explain"
  vim.keymap.set("n", "q", function()
    if api.nvim_get_current_win() == shown() then
      M.close()
    elseif #api.nvim_tabpage_list_wins(0) > 1 then
      api.nvim_win_close(0, false)
    end
  end, { buffer = buf, nowait = true, desc = "deepfim: close the explain window" })
  return buf
end

--- A float at the right of the editor, as wide as the text (up to 3/5 of the columns), as high
--- as it fits.
local function float_config(lines)
  local width = 20
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line) + 1)
  end
  local columns, rows = vim.o.columns, vim.o.lines - vim.o.cmdheight - 1
  width = math.max(1, math.min(width, math.max(40, math.floor(columns * 0.6)), columns - 4))
  local config = {
    relative = "editor",
    width = width,
    height = math.max(1, math.min(#lines, rows - 3)),
    row = 1,
    col = math.max(0, columns - width - 2),
    border = "rounded",
    title = " deepfim explain ",
    zindex = 45,
  }
  if vim.fn.has("nvim-0.10") == 1 then
    config.footer = " q closes · :DeepfimExplain focuses "
  end
  return config
end

local function focus(win)
  if api.nvim_get_mode().mode:match("^[iR]") then
    vim.cmd("stopinsert") -- the explain buffer cannot be edited
  end
  api.nvim_set_current_win(win)
end

--- Show `lines` in the explain float, leaving the current window (and Insert mode) as they are.
local function open(lines)
  M.close() -- one in another tab page
  local config = float_config(lines)
  config.style = "minimal"
  local buf = scratch(lines)
  local win = api.nvim_open_win(buf, false, config)
  M.win = win
  vim.wo[win].wrap = false
  vim.wo[win].list = false
  return buf
end

--- Ask the server for the last completion of `bufnr` and show it in a float that does not take the
--- cursor; when the float is open already (in this tab page), focus it instead. `callback(buf|nil,
--- err)` runs after.
function M.show(bufnr, callback)
  local win = shown()
  if win and api.nvim_win_get_tabpage(win) == api.nvim_get_current_tabpage() then
    focus(win)
    local buf = api.nvim_win_get_buf(win)
    if callback then
      callback(buf, nil)
    end
    return buf
  end
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local function done(buf, err)
    if err then
      vim.notify("deepfim: " .. err, vim.log.levels.WARN)
    end
    if callback then
      callback(buf, err)
    end
  end
  local client = lsp.client(bufnr)
  if not client then
    return done(nil, "no deepfim server is attached to this buffer")
  end
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  local name = vim.fn.fnamemodify(api.nvim_buf_get_name(bufnr), ":~:.")
  lsp.request(client, "deepfim/explain", params, function(err, result)
    if err then
      return done(nil, "explain failed: " .. tostring(err.message or err))
    end
    if type(result) ~= "table" then
      return done(nil, "no completion has been served for this buffer yet")
    end
    done(open(M.format(result, name)))
  end, bufnr)
end

return M
