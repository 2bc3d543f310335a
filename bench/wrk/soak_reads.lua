-- Page reads for bench/soak.py, in turn: the rankings page, a brand's page, the rankings API (all time).
-- args: rate threads brands code_prefix
dofile(os.getenv("SOAK_WRK_DIR") .. "/soak_common.lua")

local brands, prefix
local turn = 0

function init(args)
  soak_init(args, id)
  brands, prefix = tonumber(args[3]), args[4]
end

function request()
  turn = turn + 1
  local path
  if turn % 3 == 1 then
    path = "/rankings/"
  elseif turn % 3 == 2 then
    path = string.format("/b/%s%04d/", prefix, math.random(0, brands - 1))
  else
    path = "/api/v1/rankings/?period=all"
  end
  -- A client address per reader as well, in its own range, as the proxy would write it.
  local headers = { ["X-Forwarded-For"] = string.format("172.16.%d.%d", math.random(0, 255), math.random(1, 254)) }
  return wrk.format("GET", path, headers)
end
