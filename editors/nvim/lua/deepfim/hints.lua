--- deepfim: the server's messages in Neovim's terms. The server names its command-line flags and
--- setting keys ("pass --model with the path of a .gguf file", "set contextSize lower"); a Neovim user
--- sets options of require('deepfim').setup() instead (`model`, `settings.contextSize`).
local M = {}

--- The setup() option for a server setting key or a camel-cased flag, nil for anything else.
local function option(key)
  if key == "model" then
    return "`model`"
  end
  if vim.tbl_contains(require("deepfim.config").server_keys, key) then
    return "`settings." .. key .. "`"
  end
  return nil
end

--- `message` with the server's flags and keys as setup() options, and where any was, a note
--- saying where those options are set.
function M.in_nvim_terms(message)
  if type(message) ~= "string" then
    return message
  end
  local named = false
  local function setting(key)
    local name = option(key)
    named = named or name ~= nil
    return name
  end
  local function flag(dashed)
    return setting((dashed:gsub("%-(%l)", string.upper)))
  end
  local text = message
  -- "pass --model with the path of ...", "pass --model /p.gguf", "pass --engine-api ollama"
  text = text:gsub("%f[%w]pass %-%-(%l[%l%-]*) with ", function(dashed)
    local name = flag(dashed)
    return name and ("set " .. name .. " to ")
  end)
  text = text:gsub("%f[%w]pass %-%-(%l[%l%-]*) ([^%s;,)]+)", function(dashed, value)
    local name = value ~= "or" and value ~= "and" and flag(dashed)
    return name and ("set " .. name .. " to " .. value)
  end)
  text = text:gsub("%f[%w]pass %-%-(%l[%l%-]*)", function(dashed)
    local name = flag(dashed)
    return name and ("set " .. name)
  end)
  -- "set the model", "set contextSize lower", "set engineApi to ollama"
  text = text:gsub("%f[%w]set the model%f[^%w]", function()
    return "set " .. setting("model")
  end)
  text = text:gsub("%f[%w]set `?(%l%w*)`?%f[^%w`]", function(key)
    local name = setting(key)
    return name and ("set " .. name)
  end)
  -- "setting maxTokens: 0 is not accepted" (a refused value)
  text = text:gsub("%f[%w]setting `?(%l%w*)`?:", function(key)
    local name = setting(key)
    return name and ("setting " .. name .. ":")
  end)
  -- any other flag: "point --model at a .gguf file" (after a space or "(", not inside a path)
  text = (" " .. text):gsub("([%s(])%-%-(%l[%l%-]*)%f[^%w%-]", function(before, dashed)
    local name = flag(dashed)
    return name and (before .. name)
  end):sub(2)
  if named then
    text = text:gsub("[%s.]*$", "") .. " (an option of require('deepfim').setup())"
  end
  return text
end

return M
