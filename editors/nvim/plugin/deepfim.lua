-- deepfim: commands are available before setup(); setup() starts the server. See :help deepfim.
if vim.g.loaded_deepfim then
  return
end
vim.g.loaded_deepfim = true

if vim.fn.has("nvim-0.9") == 0 then
  vim.notify("deepfim needs Neovim 0.9 or newer", vim.log.levels.WARN)
  return
end

require("deepfim").define_highlights()
require("deepfim").create_commands()
