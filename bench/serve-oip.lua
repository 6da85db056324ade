-- wrk script for bench/serve.mjs: POSTs OIP JSON bodies to one path, cycling through the body
-- files given after `--` (path first, then an optional per-request delay in ms, then files).
-- Usage: wrk ... -s serve-oip.lua URL -- /v2/models/m/infer 0 body1.json [body2.json ...]
local requests = {}
local pause = 0
local n = 0

function init(args)
  local path = args[1]
  pause = tonumber(args[2]) or 0
  for i = 3, #args do
    local f = assert(io.open(args[i], "rb"))
    local body = f:read("*a")
    f:close()
    requests[#requests + 1] =
      wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
  end
end

function request()
  n = n + 1
  return requests[(n - 1) % #requests + 1]
end

function delay()
  return pause
end
