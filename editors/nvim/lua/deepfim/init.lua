--- deepfim: local fill-in-the-middle completions as ghost text. See :help deepfim.
local M = {}

M._setup_done = false

local function native()
  local options = require("deepfim.config").options
  return options.suggestion and options.suggestion.native and vim.lsp.inline_completion ~= nil
end

local function enable_native(client_id, bufnr)
  local ic = vim.lsp.inline_completion
  if not pcall(ic.enable, true, { client_id = client_id }) then
    pcall(ic.enable, true, { bufnr = bufnr })
  end
end

--- The ghost text's colours: grey and italic in every colour mode. (Linking to Comment is not
--- enough: many colour schemes, Neovim's default among them, give Comment no colour for 256-colour
--- terminals ('notermguicolors'), where ghost text then looks like code.)
M.highlight = { fg = "#808080", ctermfg = 244, italic = true, cterm = { italic = true } }

--- Define DeepfimSuggestion as a default (a user's own `:highlight DeepfimSuggestion` or
--- nvim_set_hl() wins, before or after), and again after each colour scheme (its `:hi clear`
--- removes it). Done by plugin/deepfim.lua and setup().
function M.define_highlights()
  local function define()
    vim.api.nvim_set_hl(0, "DeepfimSuggestion", vim.tbl_extend("force", M.highlight, { default = true }))
  end
  define()
  vim.api.nvim_create_autocmd("ColorScheme", {
    group = vim.api.nvim_create_augroup("deepfim.highlights", { clear = true }),
    callback = define,
  })
end

--- Define the user commands (also done by plugin/deepfim.lua, for lazy loading).
function M.create_commands()
  local command = vim.api.nvim_create_user_command
  command("DeepfimToggle", function()
    M.toggle()
  end, { desc = "deepfim: turn suggestions on or off" })
  command("DeepfimEnable", function()
    M.enable()
  end, { desc = "deepfim: turn suggestions on" })
  command("DeepfimDisable", function()
    M.disable()
  end, { desc = "deepfim: turn suggestions off" })
  command("DeepfimExplain", function()
    M.explain()
  end, { desc = "deepfim: show the prompt and timings of the last completion" })
  command("DeepfimEdit", function(args)
    M.edit(args.line1, args.line2, args.args ~= "" and args.args or nil)
  end, { range = true, nargs = "*", desc = "deepfim: rewrite the lines as instructed (asks when no instruction)" })
  command("DeepfimStatus", function()
    local status = M.status()
    local message = status.message
    -- "deepfim ready: <model> (...)" says it all, as "loading model 40%" does (the text has the percentage
    -- too); other messages follow the state ("deepfim: error: ...").
    if message:match("^deepfim ") then
      vim.notify(message)
    elseif status.percentage and message ~= "" then
      vim.notify("deepfim: " .. message)
    else
      vim.notify(status.text .. (message ~= "" and (": " .. message) or ""))
    end
  end, { desc = "deepfim: show the server's status" })
end

--- Configure deepfim and start the server for the buffers it applies to. See :help deepfim-setup.
function M.setup(opts)
  local config = require("deepfim.config")
  local previous = vim.deepcopy(config.options.settings or {})
  local options = config.set(opts)
  if options.suggestion.native and not vim.lsp.inline_completion then
    vim.notify("deepfim: suggestion.native needs Neovim's vim.lsp.inline_completion (0.12+); "
      .. "using deepfim's own ghost text", vim.log.levels.WARN)
  end
  M._setup_done = true
  local suggestion = require("deepfim.suggestion")
  suggestion.enabled = options.settings.enabled ~= false
  suggestion.setup()
  require("deepfim.keymaps").setup(options.keymaps)
  M.create_commands()
  local group = vim.api.nvim_create_augroup("deepfim.native", { clear = true })
  if native() then
    vim.api.nvim_create_autocmd("LspAttach", {
      group = group,
      callback = function(args)
        local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
        if client and client.name == require("deepfim.lsp").name then
          enable_native(client.id, args.buf)
        end
      end,
    })
  end
  local lsp = require("deepfim.lsp")
  lsp.setup(options)
  -- setup() again (the config edited and sourced): a running server gets what changed; a setting no
  -- longer given goes back to the server's own value (vim.NIL).
  local changes = {}
  for key, value in pairs(options.settings) do
    if not vim.deep_equal(previous[key], value) then
      changes[key] = value
    end
  end
  for key in pairs(previous) do
    if options.settings[key] == nil then
      changes[key] = vim.NIL
    end
  end
  if next(changes) and #lsp.clients() > 0 then
    lsp.update_settings(changes)
  end
end

--- The suggestion text shown now (what accept() would insert), or nil.
function M.suggestion()
  if native() then
    return nil
  end
  return require("deepfim.suggestion").get()
end

--- Insert the whole suggestion. Returns true when one was shown.
function M.accept()
  if native() then
    return vim.lsp.inline_completion.get() and true or false
  end
  return require("deepfim.suggestion").accept("all")
end

--- Insert the suggestion's next word.
function M.accept_word()
  return require("deepfim.suggestion").accept("word")
end

--- Insert the rest of the suggestion's current line (or its next line).
function M.accept_line()
  return require("deepfim.suggestion").accept("line")
end

--- Hide the suggestion.
function M.dismiss()
  return require("deepfim.suggestion").dismiss()
end

--- Ask for a suggestion at the cursor now (insert mode).
function M.trigger()
  if native() then
    return false
  end
  return require("deepfim.suggestion").request(true)
end

--- For the key mappings (runs in an <expr> mapping): the keys that perform `action` now, or nil
--- when it does not apply (the key then does what it did before).
function M._key(action)
  if native() then
    if action == "accept" and vim.lsp.inline_completion.get() then
      return ""
    end
    return nil
  end
  if action == "trigger" or M.suggestion() ~= nil then
    return ("<Cmd>lua require('deepfim').%s()<CR>"):format(action)
  end
  return nil
end

--- Whether suggestions are on.
function M.is_enabled()
  return require("deepfim.suggestion").enabled
end

local function set_enabled(enabled)
  local suggestion = require("deepfim.suggestion")
  suggestion.enabled = enabled
  if not enabled then
    suggestion.reset()
  end
  require("deepfim.lsp").update_settings({ enabled = enabled })
  if native() then
    pcall(vim.lsp.inline_completion.enable, enabled)
  end
end

function M.enable()
  set_enabled(true)
end

function M.disable()
  set_enabled(false)
end

--- Turn suggestions on or off (in Neovim and in the server). Returns the new state.
function M.toggle()
  set_enabled(not M.is_enabled())
  vim.notify("deepfim: suggestions " .. (M.is_enabled() and "on" or "off"))
  return M.is_enabled()
end

--- The server's state, for statuslines: { state, message, percentage?, model?, text }.
--- state: "off" | "starting" | "loading" | "ready" | "error" | "disabled" | "stopped".
function M.status(bufnr)
  return require("deepfim.status").get(bufnr)
end

--- A short status string for statuslines ("deepfim: ready", "deepfim: loading 40%", ...).
--- {opts}: a buffer number (default: the current one, which is the drawn window's inside %{...}),
--- or { bufnr = ..., escape = true }: escape doubles each "%", for places that read the text as
--- statusline format (lualine components, %{%...%}, %!...); %{...} shows the text as it is.
function M.statusline(opts)
  local bufnr, escape = opts, false
  if type(opts) == "table" then
    bufnr, escape = opts.bufnr, opts.escape
  end
  local text = M.status(bufnr).text
  return escape and (text:gsub("%%", "%%%%")) or text
end

--- The status as a lualine component (its text is statusline format, so "%" is escaped; the
--- arguments lualine passes are ignored): `lualine_x = { require("deepfim").lualine }`.
function M.lualine()
  return M.statusline({ escape = true })
end

--- Show the prompt and timings of the last completion of the current buffer in a float that
--- leaves the cursor in the current window (q in it closes it); when it is open, focus it.
function M.explain(callback)
  return require("deepfim.explain").show(0, callback)
end

--- Rewrite lines `first`..`last` (1-based) of the current buffer as `instruction` says (asked with
--- vim.ui.input when nil), with the server's instruct model; |:DeepfimEdit|. The code actions of a
--- selection (vim.lsp.buf.code_action()) offer the same and more (|deepfim-actions|).
function M.edit(first, last, instruction, callback)
  return require("deepfim.actions").edit_lines(0, first, last, instruction, callback)
end

--- Send server settings (maxTokens, contextSize, ...) to the running server.
function M.set_settings(settings)
  require("deepfim.lsp").update_settings(settings)
end

return M
