--- deepfim: the language server client (registration, lookup, requests).
local config = require("deepfim.config")

local M = {}

M.name = "deepfim"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- Every running deepfim client, or those attached to `bufnr`.
function M.clients(bufnr)
  local filter = { name = M.name }
  if bufnr then
    filter.bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  end
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter) ---@diagnostic disable-line: deprecated
end

--- The deepfim client attached to `bufnr` (current buffer by default), or nil.
function M.client(bufnr)
  local clients = M.clients(bufnr or vim.api.nvim_get_current_buf())
  for _, client in ipairs(clients) do
    if not (client.is_stopped and M.call(client, "is_stopped")) then
      return client
    end
  end
  return nil
end

--- Call a client method on 0.11+ (method syntax) and older versions (function fields).
function M.call(client, method, ...)
  if has_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

function M.request(client, method, params, handler, bufnr)
  return M.call(client, "request", method, params, handler, bufnr)
end

function M.cancel(client, id)
  pcall(M.call, client, "cancel_request", id)
end

function M.notify(client, method, params)
  return M.call(client, "notify", method, params)
end

--- Whether `bufnr` is a buffer deepfim serves.
function M.wanted(bufnr, opts)
  opts = opts or config.options
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return false
  end
  if vim.api.nvim_buf_get_name(bufnr) == "" then
    return false
  end
  local ft = vim.bo[bufnr].filetype
  if opts.filetypes then
    return vim.tbl_contains(opts.filetypes, ft)
  end
  return not vim.tbl_contains(opts.exclude_filetypes or {}, ft)
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  return caps
end

local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if not markers or #markers == 0 then
    return nil
  end
  if vim.fs.root then
    local root = vim.fs.root(bufnr, markers)
    if root then
      return root
    end
  else
    local found = vim.fs.find(markers, { path = vim.fs.dirname(name), upward = true })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return nil
end

--- Give the shared server the workspace root of `bufnr` when it lacks it: one server serves every
--- project, and Neovim tells it only the root of the buffer it started for, so files of a project
--- opened later had no repository context. A root inside one it has is left out.
function M.add_root(client, bufnr, opts)
  local root = find_root(bufnr, (opts or config.options).root_markers)
  if not root then
    return
  end
  root = vim.fs.normalize(root)
  for _, folder in ipairs(client.workspace_folders or {}) do
    local have = vim.fs.normalize(vim.uri_to_fname(folder.uri))
    if root == have or vim.startswith(root, have .. "/") then
      return
    end
  end
  local added = { { uri = vim.uri_from_fname(root), name = root } }
  M.notify(client, "workspace/didChangeWorkspaceFolders", { event = { added = added, removed = {} } })
  client.workspace_folders = vim.list_extend(client.workspace_folders or {}, added)
end

--- The client configuration (a vim.lsp.Config / vim.lsp.ClientConfig).
function M.client_config(opts)
  local settings = vim.deepcopy(opts.settings or {})
  local status = require("deepfim.status")
  local cfg = {
    name = M.name,
    cmd = opts.cmd,
    cmd_cwd = opts.cmd_cwd,
    cmd_env = opts.cmd_env,
    -- One server (one model in memory) for every buffer and project.
    reuse_client = function(client, cfg)
      return client.name == cfg.name and not M.call(client, "is_stopped")
    end,
    root_dir = function(bufnr, on_dir)
      if M.wanted(bufnr, opts) then
        on_dir(find_root(bufnr, opts.root_markers))
      end
    end,
    init_options = next(settings) and settings or vim.empty_dict(),
    settings = next(settings) and { deepfim = settings } or vim.empty_dict(),
    capabilities = capabilities(),
    handlers = {
      ["deepfim/status"] = status.handler,
      -- Errors and warnings in Neovim's terms ("set `model`", not "pass --model").
      ["window/showMessage"] = function(err, params, ctx)
        if type(params) == "table" then
          params = vim.tbl_extend("force", params, { message = require("deepfim.hints").in_nvim_terms(params.message) })
        end
        return vim.lsp.handlers["window/showMessage"](err, params, ctx)
      end,
    },
    -- Code actions' `deepfim.edit` runs here first: it asks for the instruction (deepfim.actions).
    commands = require("deepfim.actions").commands,
    on_exit = function(code, signal, client_id)
      status.on_exit(code, signal, client_id)
    end,
  }
  if opts.filetypes then
    cfg.filetypes = opts.filetypes
  end
  return cfg
end

local augroup = vim.api.nvim_create_augroup("deepfim.lsp", { clear = true })

--- Start (or reuse) the deepfim client for `bufnr`.
function M.start(bufnr, opts)
  opts = opts or config.options
  if not M.wanted(bufnr, opts) then
    return nil
  end
  local cfg
  if has_011 and vim.lsp.config then
    cfg = vim.deepcopy(vim.lsp.config[M.name])
  else
    cfg = M.client_config(opts)
  end
  if not cfg then
    return nil
  end
  cfg.root_dir = find_root(bufnr, opts.root_markers)
  cfg.root_markers = nil
  if not M.runnable(cfg.cmd) then
    return nil
  end
  return vim.lsp.start(cfg, { bufnr = bufnr, reuse_client = cfg.reuse_client })
end

--- Whether the server command `cmd` can be run; the first time it cannot, the user is told what to set.
--- It is also the status (an error) while no deepfim server runs.
function M.runnable(cmd)
  if type(cmd) ~= "table" or vim.fn.executable(cmd[1]) == 1 then
    return true
  end
  local message = ("%s is not executable (is deepfim installed there?); set `cmd` in "
    .. "require('deepfim').setup() to the deepfim program, e.g. { \"~/src/deepfim/.venv/bin/deepfim\", \"serve\" }")
    :format(cmd[1])
  require("deepfim.status").failed(message)
  if not M.warned_cmd then
    M.warned_cmd = true
    vim.notify("deepfim: " .. message, vim.log.levels.WARN)
  end
  return false
end

--- Register the server with Neovim and attach to the buffers it applies to.
function M.setup(opts)
  vim.api.nvim_clear_autocmds({ group = augroup })
  local enabled = false
  if has_011 and vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(M.name, M.client_config(opts))
    -- Buffers with a filetype: vim.lsp.enable's FileType autocmd.
    vim.lsp.enable(M.name)
    enabled = true
    M.registered = true
  end
  -- Buffers without a filetype (`-u NONE` has no filetype detection), and every buffer on
  -- Neovim < 0.11.
  local function maybe_start(bufnr, event)
    if enabled and vim.bo[bufnr].filetype ~= "" and event ~= "BufEnter" then
      -- vim.lsp.enable skips a command that is not executable with no word but in lsp.log.
      if M.wanted(bufnr, opts) then
        M.runnable(opts.cmd)
      end
      return
    end
    -- (BufEnter: vim.lsp.enable attaches on FileType only, so a buffer whose server exited stayed
    -- without one, even once another file had started a new server.)
    if M.client(bufnr) == nil then
      M.start(bufnr, opts)
    end
  end
  vim.api.nvim_create_autocmd("LspAttach", {
    group = augroup,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == M.name then
        M.add_root(client, args.buf, opts)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "FileType", "BufEnter" }, {
    group = augroup,
    callback = function(args)
      maybe_start(args.buf, args.event)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      maybe_start(bufnr)
    end
  end
end

--- Change server settings: for clients started from now on, and in every running deepfim client
--- (workspace/didChangeConfiguration).
function M.update_settings(changes)
  local options = config.options
  options.settings = vim.tbl_extend("force", options.settings or {}, changes)
  if changes.model ~= nil then
    options.model = changes.model ~= vim.NIL and changes.model or nil -- vim.NIL: the server's own choice
  end
  if M.registered then
    vim.lsp.config(M.name, { init_options = options.settings, settings = { deepfim = options.settings } })
  end
  for _, client in ipairs(M.clients()) do
    if type(client.settings) == "table" then
      client.settings = vim.tbl_deep_extend("force", client.settings, { deepfim = changes })
    end
    M.notify(client, "workspace/didChangeConfiguration", { settings = { deepfim = changes } })
  end
end

return M
