--- :checkhealth deepfim
local M = {}

local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error
local info = health.info or health.report_info

local function model_of(options)
  if options.model and options.model ~= "" then
    return options.model, "setup({ model = ... })"
  end
  local cmd = type(options.cmd) == "table" and options.cmd or {}
  for i, arg in ipairs(cmd) do
    if arg == "--model" and cmd[i + 1] then
      return cmd[i + 1], "--model in cmd"
    end
    local value = type(arg) == "string" and arg:match("^%-%-model=(.+)$")
    if value then
      return value, "--model in cmd"
    end
  end
  local env = (options.cmd_env or {}).DEEPFIM_MODEL or vim.env.DEEPFIM_MODEL
  if env and env ~= "" then
    return env, "$DEEPFIM_MODEL"
  end
  return nil, nil
end

local function looks_like_path(model)
  return model:match("%.gguf$") or model:find("/", 1, true) or model:find("\\", 1, true) or model:match("^~")
end

--- Nothing names the model (setup, cmd, $DEEPFIM_MODEL): say which model the running servers report
--- serving (`deepfim/status`), and where it is the small prefix-only model standing in for the catalog
--- default (what `deepfim models pull` installs without the model hub), that it is.
local function no_model_configured(running)
  local told = false
  for _, entry in ipairs(running) do
    local status = entry.status
    if status and status.model and (status.state == "ready" or status.state == "disabled"
        or status.state == "reading") then
      told = true
      if status.prefix_only then -- the catalog default has FIM tokens: this model stands in for it
        warn(("no model configured: the server serves %s, the small prefix-only model standing in for the "
          .. "catalog default, which is not downloaded (it completes from the code before the cursor only)")
          :format(status.model), {
            "Run `deepfim models pull` where the model hub can be reached (`deepfim models list` shows what serves)",
            "or set `model` in setup() to the path of a .gguf file",
          })
      else
        ok(("no model configured: the server serves its default, %s"):format(status.model))
      end
    end
  end
  if not told then
    info("no model configured: the server uses $DEEPFIM_MODEL, else the catalog default, else the small "
      .. "prefix-only model `deepfim models pull` installs without the model hub (`deepfim models list` says which)")
  end
end

function M.check()
  local deepfim = require("deepfim")
  local options = require("deepfim.config").options
  local lsp = require("deepfim.lsp")

  start("deepfim: setup")
  if vim.fn.has("nvim-0.10") == 1 then
    ok("Neovim " .. tostring(vim.version()))
  else
    warn("Neovim " .. tostring(vim.version()) .. ": 0.10+ is recommended (inline virtual text)")
  end
  if deepfim._setup_done then
    ok("require('deepfim').setup() was called")
  else
    error("require('deepfim').setup() was not called", { "Call require('deepfim').setup({}) in your config" })
  end
  local suggestion = require("deepfim.suggestion")
  if options.suggestion and options.suggestion.native then
    if vim.lsp.inline_completion then
      ok("ghost text: Neovim's vim.lsp.inline_completion")
    else
      warn("ghost text: deepfim's own (suggestion.native is set, but this Neovim has no vim.lsp.inline_completion)")
    end
  else
    ok("ghost text: deepfim's own" .. (suggestion.enabled and "" or " (disabled with :DeepfimToggle)"))
  end

  start("deepfim: server")
  local cmd = options.cmd
  if type(cmd) == "function" then
    info("cmd is a function; not checked")
  elseif type(cmd) ~= "table" or not cmd[1] then
    error("cmd is not set")
  elseif vim.fn.executable(cmd[1]) == 1 then
    ok(("server found: %s (%s)"):format(table.concat(cmd, " "), vim.fn.exepath(cmd[1])))
  else
    error(("server not found: %s is not executable"):format(cmd[1]), {
      "Install deepfim (pip install -e . in its repository) and put `deepfim` on your PATH",
      "or set cmd = { '/path/to/deepfim', 'serve' } in setup()",
    })
  end

  start("deepfim: model")
  local model, where = model_of(options)
  local running = {}
  for _, client in ipairs(lsp.clients()) do
    local status = require("deepfim.status").by_client[client.id]
    running[#running + 1] = { client = client, status = status }
  end
  if model then
    if looks_like_path(model) then
      local path = vim.fn.expand(model)
      if vim.fn.filereadable(path) == 1 then
        ok(("model found: %s (from %s)"):format(path, where))
      else
        error(("model not found: %s (from %s)"):format(path, where),
          { "Pass the path of a .gguf file, or a catalog name (deepfim models list)" })
      end
    else
      info(("model: catalog name %q (from %s), resolved by the server"):format(model, where))
    end
  else
    no_model_configured(running)
  end
  for _, entry in ipairs(running) do
    local status = entry.status
    if status == nil then
      info(("client %d: starting"):format(entry.client.id))
    elseif status.state == "ready" or status.state == "disabled" then
      ok(("model loaded: %s (%s)"):format(status.model or "?", status.message or status.state))
    elseif status.state == "loading" then
      info(("model loading: %s"):format(status.message or ""))
    elseif status.state == "reading" then -- a long prompt (the first completion in a big file)
      ok(("model loaded, %s"):format(status.message or "reading a prompt"))
    else
      error(("server %s: %s"):format(status.state, status.message or ""))
    end
  end

  start("deepfim: clients")
  if #running == 0 then
    warn("no deepfim client is running", { "Open a file (the server starts when a buffer is attached)" })
  end
  for _, entry in ipairs(running) do
    local client = entry.client
    local bufs = {}
    for bufnr in pairs(client.attached_buffers or {}) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        bufs[#bufs + 1] = ("%d (%s)"):format(bufnr, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":~:."))
      end
    end
    table.sort(bufs)
    if #bufs > 0 then
      ok(("client attached: id %d, root %s, buffers %s"):format(client.id, client.root_dir or "(none)",
        table.concat(bufs, ", ")))
    else
      warn(("client %d is running but attached to no buffer"):format(client.id))
    end
  end
  local alt = vim.fn.bufnr("#")
  if alt > 0 and vim.api.nvim_buf_is_valid(alt) and vim.api.nvim_buf_get_name(alt) ~= "" then
    local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(alt), ":~:.")
    if lsp.client(alt) then
      ok(("client attached to %s"):format(name))
    elseif vim.bo[alt].buftype == "" then
      warn(("no deepfim client attached to %s"):format(name))
    end
  end
end

return M
