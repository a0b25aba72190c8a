--- deepfim: the server's state (from `deepfim/status`), for statuslines.
local M = {}

--- Latest `deepfim/status` params per client id.
M.by_client = {}

local function text(status)
  if (status.state == "loading" or status.state == "reading") and status.percentage then
    return ("deepfim: %s %d%%"):format(status.state, status.percentage)
  end
  if status.state == "ready" and status.prefix_only then
    return "deepfim: ready (prefix-only)"  -- a model without fill-in-the-middle tokens
  end
  return "deepfim: " .. status.state
end

--- Tell the status (as |deepfim-status| describes it: with its `text`) to the User DeepfimStatus
--- autocommands and `on_status`.
local function fire(status)
  status = vim.tbl_extend("force", status, { text = text(status) })
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "DeepfimStatus", modeline = false, data = status })
  local on_status = require("deepfim.config").options.on_status
  if on_status then
    pcall(on_status, status)
  end
  pcall(vim.cmd.redrawstatus)
end

local function clean(params)
  local status = {}
  for _, key in ipairs({ "state", "message", "percentage", "model" }) do
    local value = params[key]
    if value ~= nil and value ~= vim.NIL then
      status[key] = value
    end
  end
  status.state = status.state or "loading"
  status.message = require("deepfim.hints").in_nvim_terms(status.message or "")
  return status
end

--- Handler of the `deepfim/status` notification.
function M.handler(_, params, ctx)
  if type(params) ~= "table" then
    return
  end
  local status = clean(params)
  -- "deepfim ready: m (prefix-only template, ...)"; other ready messages ("enabled") keep what it was.
  local template = status.message:match("%((%S+) template")
  if template then
    status.prefix_only = template == "prefix-only"
  else
    status.prefix_only = (M.by_client[ctx.client_id] or {}).prefix_only
  end
  if status.state == "reading" and status.model == nil then -- the loaded model at work: still that model
    status.model = (M.by_client[ctx.client_id] or {}).model
  end
  M.by_client[ctx.client_id] = status
  fire(status)
end

--- How to start the server again: the trigger key, which does (|deepfim.trigger()|).
local function restart()
  local keymaps = require("deepfim.config").options.keymaps
  local key = type(keymaps) == "table" and keymaps.trigger
  return key and (key .. " in Insert mode") or "require('deepfim').trigger()"
end

function M.on_exit(code, signal, client_id)
  local message = ("server exited (code %s%s); %s starts it again"):format(code,
    signal ~= 0 and (", signal " .. signal) or "", restart())
  local status = { state = code == 0 and signal == 0 and "stopped" or "error", message = message }
  M.by_client[client_id] = status
  M.exited = status -- shown once no server runs: "error" after a crash, not "off"
  vim.schedule(function()
    fire(status)
  end)
end

--- The server could not be started (`message` says why): the status while no deepfim server runs.
function M.failed(message)
  local status = { state = "error", message = message }
  local changed = not vim.deep_equal(M.exited, status)
  M.exited = status
  if changed then
    vim.schedule(function()
      fire(status)
    end)
  end
end

--- The status of the deepfim server of `bufnr` (the current buffer by default), or of any running
--- deepfim server: { state = "off"|"starting"|"loading"|"reading"|"ready"|"error"|"disabled"|"stopped",
--- message, percentage?, model?, text }.
function M.get(bufnr)
  local lsp = require("deepfim.lsp")
  local client = lsp.client(bufnr or vim.api.nvim_get_current_buf())
  local status
  if client then
    status = M.by_client[client.id] or { state = "starting", message = "starting the server" }
  else
    for _, other in ipairs(lsp.clients()) do
      status = M.by_client[other.id]
      if status then
        break
      end
    end
    status = status or M.exited
    if not status then
      status = { state = "off", message = "no deepfim server is attached to this buffer" }
      if not require("deepfim")._setup_done then
        status.message = "require('deepfim').setup() was not called"
      end
    end
  end
  status = vim.deepcopy(status)
  if status.state == "ready" and not require("deepfim.suggestion").enabled then
    status.state = "disabled"
  end
  status.text = text(status)
  return status
end

return M
