-- (b) The rating API: POST /api/v1/brands/<code>/evaluations/ as a citizen's app would send it.
--   wrk -s bench/wrk/api.lua http://127.0.0.1:8107 -- <device ids file> <brand codes file> <offset> <threads>
-- Each request: its own client address (clients.lua), a brand in turn, and its own device id from the
-- file: ids that this server issued (evaluations.integrity.device_token, what GET on the endpoint hands
-- out), one per line, so every rating comes from a distinct device as long as the file lasts.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
dofile(here .. "clients.lua")

local devices, brands

function init(args)
  devices, brands = lines(args[1]), lines(args[2])
  clients_init(args[3], args[4])
end

function request()
  local n, address, brand = next_client(#brands)
  local body = string.format('{"overall": %d, "rater_group": "%s"}', grade_of(n), group_of(n))
  return wrk.format("POST", "/api/v1/brands/" .. brands[brand + 1] .. "/evaluations/", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = address,
    ["X-Device-Id"] = devices[(n % #devices) + 1],
  }, body)
end
