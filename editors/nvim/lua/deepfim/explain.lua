--- deepfim: :DeepfimExplain, the prompt and timings of the last completion in a scratch buffer.
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

local function open_scratch(lines)
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
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    win = api.nvim_get_current_win()
    api.nvim_win_set_buf(win, buf)
  else
    api.nvim_set_current_win(win)
  end
  vim.wo[win].wrap = false
  vim.wo[win].number = false
  vim.wo[win].list = false
  api.nvim_win_set_cursor(win, { 1, 0 })
  return buf
end

--- Ask the server for the last completion of `bufnr` and show it. `callback(buf|nil, err)` runs after.
function M.show(bufnr, callback)
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
    done(open_scratch(M.format(result, name)))
  end, bufnr)
end

return M
