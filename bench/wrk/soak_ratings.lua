-- Ratings for bench/soak.py: POST /api/v1/brands/<code>/evaluations/ with {"overall": n}, over every brand.
-- args: rate threads brands code_prefix client [seed]
--   client "spread": a random address in 10.0.0.0/8 per request, sent as X-Forwarded-For (the server trusts
--   one proxy), so the per-address throttles see many citizens; no device id, so one address is one device.
--   client <address>: every request from that address to the first brand (the intended 429s).
dofile(os.getenv("SOAK_WRK_DIR") .. "/soak_common.lua")

-- bench/run.py's grades: mostly 5s, a tail of bad reviews.
local cumulative = { 0.02, 0.05, 0.12, 0.35, 1.0 }
local brands, prefix, client

function init(args)
  soak_init(args, id)
  brands, prefix, client = tonumber(args[3]), args[4], args[5]
end

local function grade()
  local x = math.random()
  for g, limit in ipairs(cumulative) do
    if x <= limit then
      return g
    end
  end
  return 5
end

function request()
  local brand, address = 0, client
  if client == "spread" then
    brand = math.random(0, brands - 1)
    address = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local path = string.format("/api/v1/brands/%s%04d/evaluations/", prefix, brand)
  local headers = { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }
  return wrk.format("POST", path, headers, string.format('{"overall": %d}', grade()))
end
