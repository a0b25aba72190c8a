--- deepfim: insert-mode keys that act on the suggestion and otherwise do what they did before.
local api = vim.api

local M = {}

--- Mappings that were there before ours, by lhs: the maparg() dict, or false for none.
M.saved = {}
--- Our mappings, by lhs.
M.ours = {}

local function termcodes(keys)
  return api.nvim_replace_termcodes(keys, true, false, true)
end

--- Keys that do what `lhs` did before deepfim mapped it (raw bytes, not to be remapped unless
--- fed separately).
function M.fallback(lhs)
  local prev = M.saved[lhs]
  if not prev then
    return termcodes(lhs)
  end
  local keys
  if prev.expr == 1 then
    local ok, result
    if prev.callback then
      ok, result = pcall(prev.callback)
    else
      ok, result = pcall(api.nvim_eval, prev.rhs)
    end
    if not ok or type(result) ~= "string" then
      return ""
    end
    keys = result
    if prev.callback and prev.replace_keycodes == 1 then
      keys = termcodes(keys)
    end
  elseif prev.callback then
    -- ("<" as the Lua escape \060: termcodes would turn "<Tab>" inside the Lua string into a tab)
    local arg = ("%q"):format(lhs):gsub("<", "\\060")
    return termcodes(("<Cmd>lua require('deepfim.keymaps').call_saved(%s)<CR>"):format(arg))
  else
    keys = termcodes(prev.rhs or "")
  end
  if prev.noremap == 0 and prev.script == 0 then
    -- A remappable mapping: feed the keys so that mappings apply, in front of what is typed next.
    api.nvim_feedkeys(keys, "im", false)
    return ""
  end
  return keys
end

function M.call_saved(lhs)
  local prev = M.saved[lhs]
  if prev and prev.callback then
    prev.callback()
  end
end

--- Map `lhs` in insert mode to `action` (a function of require('deepfim')) when it applies, else
--- (when `fallback`) to what the key did before.
function M.map(lhs, action, fallback)
  if M.ours[lhs] == nil then
    local prev = vim.fn.maparg(lhs, "i", false, true)
    if prev and not vim.tbl_isempty(prev) and prev.buffer ~= 1 and prev.desc ~= "deepfim" then
      M.saved[lhs] = prev
    else
      M.saved[lhs] = false
    end
  end
  M.ours[lhs] = action
  vim.keymap.set("i", lhs, function()
    local keys = require("deepfim")._key(action)
    if keys then
      return termcodes(keys)
    end
    if not fallback then
      return ""
    end
    return M.fallback(lhs)
  end, { expr = true, replace_keycodes = false, silent = true, desc = "deepfim" })
end

--- Remove our mappings and restore the ones they replaced.
function M.unmap_all()
  for lhs in pairs(M.ours) do
    pcall(vim.keymap.del, "i", lhs)
    local prev = M.saved[lhs]
    if prev then
      pcall(vim.fn.mapset, "i", false, prev)
    end
  end
  M.ours = {}
  M.saved = {}
end

function M.setup(keymaps)
  M.unmap_all()
  if not keymaps then
    return
  end
  local fallthrough = { accept = true, accept_word = true, accept_line = true, dismiss = true }
  for _, action in ipairs({ "accept", "accept_word", "accept_line", "dismiss", "trigger" }) do
    local lhs = keymaps[action]
    if lhs and lhs ~= "" then
      M.map(lhs, action, fallthrough[action])
    end
  end
end

return M
