-- (B) The baseline: POST /bench/raw/, a bare Django view that inserts one row with raw SQL.
--   wrk -s bench/wrk/raw.lua http://127.0.0.1:8107 -- <offset> <threads>
-- The same request shape as api.lua (JSON body, a client address and a device id per request), so the
-- client does the same work for B as for the rating paths; the view ignores the address.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
dofile(here .. "clients.lua")

function init(args)
  clients_init(args[1], args[2])
end

function request()
  local n, address = next_client(1)
  local body = string.format('{"overall": %d, "rater_group": "%s"}', grade_of(n), group_of(n))
  return wrk.format("POST", "/bench/raw/", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = address,
    ["X-Device-Id"] = string.format("raw-%012d", n),
  }, body)
end
