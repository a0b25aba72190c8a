--- deepfim: options and their defaults.
local M = {}

--- Server settings that may also be given at the top level of the options (they are moved into
--- `settings`): every key the server reads from initializationOptions except `model`, which is an
--- option of its own. The schema is server/settings.py; tests/test_settings.py checks that this list
--- names all of its keys (keep it one table literal in this one assignment).
M.server_keys = {
  "maxTokens", "contextSize", "threads", "timeBudgetMs", "enabled", "logText", "lineInPrefix",
  "contextBeforeBos", "firstAnswerMs", "lookupDecoding", "singleLine", "installedPackages", "engine", "engineApi", "engineModel",
  "gpuLayers", "flashAttention", "kvCacheType", "instructModel", "instructEngine", "instructEngineApi",
}

M.defaults = {
  -- The command that starts the server (stdio).
  cmd = { "deepfim", "serve" },
  -- Working directory and extra environment of the server process.
  cmd_cwd = nil,
  cmd_env = nil,
  -- Path to a .gguf file or a catalog name; nil: the server's default ($DEEPFIM_MODEL, then the catalog
  -- default).
  model = nil,
  -- Filetypes to attach to; nil: every buffer that is a file (also those without a filetype).
  filetypes = nil,
  -- Filetypes never attached to (when `filetypes` is nil).
  exclude_filetypes = { "gitcommit", "gitrebase", "help", "netrw" },
  -- Markers that find the workspace root sent to the server.
  root_markers = { ".git" },
  -- Server settings (the keys of M.server_keys, see :help deepfim-settings); each may also be given
  -- at the top level of the options.
  settings = {},
  suggestion = {
    -- Show ghost text while typing (false: only on trigger()).
    auto_trigger = true,
    -- Milliseconds to wait after the last keystroke before asking the server.
    debounce = 75,
    -- Use Neovim's own vim.lsp.inline_completion (Neovim 0.12+) instead of deepfim's ghost text.
    native = false,
    -- Highlight group of the ghost text.
    hl_group = "DeepfimSuggestion",
  },
  -- Insert-mode keys; false disables one, `keymaps = false` all. Keys other than `trigger` fall
  -- through to what they did before when no suggestion is shown.
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-C-Right>",
    dismiss = "<C-]>",
    trigger = "<M-\\>",
  },
  -- Called with the status table whenever the server reports its state.
  on_status = nil,
}

M.options = vim.deepcopy(M.defaults)

--- `path` with a leading "~" replaced by the home folder.
local function home(path)
  if type(path) == "string" and (path == "~" or path:match("^~[/\\]")) and vim.env.HOME then
    return vim.env.HOME .. path:sub(2)
  end
  return path
end

--- Merge user options over the defaults and normalize them.
function M.set(opts)
  opts = opts or {}
  local unknown = {}
  for key in pairs(opts) do
    -- (options whose default is nil are no keys of M.defaults)
    if M.defaults[key] == nil and not vim.tbl_contains(M.server_keys, key)
        and not vim.tbl_contains({ "model", "cmd_cwd", "cmd_env", "filetypes", "on_status" }, key) then
      table.insert(unknown, tostring(key))
    end
  end
  if #unknown > 0 then
    table.sort(unknown)
    vim.notify(("deepfim: setup() does not know %s; ignored (see :help deepfim-options and "
      .. ":help deepfim-settings)"):format(table.concat(unknown, ", ")), vim.log.levels.WARN)
  end
  local options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists are replaced, not merged.
  for _, key in ipairs({ "cmd", "filetypes", "exclude_filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      options[key] = opts[key]
    end
  end
  if opts.keymaps == false then
    options.keymaps = false
  end
  if type(options.cmd) == "string" then
    options.cmd = { options.cmd }
  end
  -- "~/src/deepfim/.venv/bin/deepfim": the server is started without a shell, which would expand "~".
  if type(options.cmd) == "table" and options.cmd[1] then
    options.cmd = vim.list_extend({ home(options.cmd[1]) }, options.cmd, 2)
  end
  options.cmd_cwd = home(options.cmd_cwd)
  options.settings = vim.deepcopy(options.settings or {})
  for _, key in ipairs(M.server_keys) do
    if opts[key] ~= nil then
      options.settings[key] = opts[key]
      options[key] = nil
    end
  end
  if options.model == vim.NIL then -- the server's own choice, as settings.model = vim.NIL
    options.model, options.settings.model = nil, vim.NIL
  elseif options.model ~= nil and options.model ~= "" then
    options.settings.model = options.model
  elseif type(options.settings.model) == "string" then -- (not vim.NIL: the server's own choice)
    options.model = options.settings.model
  end
  M.options = options
  return options
end

return M
