-- wrk script for bench/serve.mjs: POSTs OIP bodies to one path, cycling through the body files
-- given after `--` (path first, then an optional per-request delay in ms, then files). A file
-- given as FILE@N is a Triton binary-data request whose JSON header is its first N bytes: it
-- goes with `Inference-Header-Content-Length: N`; any other file is sent as OIP JSON.
-- Usage: wrk ... -s serve-oip.lua URL -- /v2/models/m/infer 0 body1.json [body2.bin@96 ...]
local requests = {}
local pause = 0
local n = 0

function init(args)
  local path = args[1]
  pause = tonumber(args[2]) or 0
  for i = 3, #args do
    local file, header = string.match(args[i], "^(.*)@(%d+)$")
    local headers = { ["Content-Type"] = "application/json" }
    if file then
      headers = {
        ["Content-Type"] = "application/octet-stream",
        ["Inference-Header-Content-Length"] = header,
      }
    else
      file = args[i]
    end
    local f = assert(io.open(file, "rb"))
    local body = f:read("*a")
    f:close()
    requests[#requests + 1] = wrk.format("POST", path, headers, body)
  end
end

function request()
  n = n + 1
  return requests[(n - 1) % #requests + 1]
end

function delay()
  return pause
end
