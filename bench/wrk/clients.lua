-- Shared by the POST scripts (loaded with dofile after report.lua): a run-wide request number and the
-- client address and brand it stands for.
--
-- Request k of thread t is number n = offset + k * stride + t: the offset is the number of requests of
-- the earlier runs (bench/submit.py passes it), so no two requests of a whole bench share a number.
-- Like a proxy, each request carries its client's address in X-Forwarded-For (the app trusts one
-- proxy: TRUSTED_PROXY_COUNT=1). Addresses come from 198.18.0.0/15, the range set aside for
-- benchmarks: 512 networks (/24) of 256 hosts, the network turning fastest, so an address recurs
-- only every 131,072 requests and a (network, brand) pair only every 512 x brands: no throttle
-- (per address, per address and brand) and no network limit is reached by design.

local offset, stride, k = 0, 1, 0

function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(out, line)
    end
  end
  return out
end

function clients_init(first_offset, threads)
  offset, stride = tonumber(first_offset), tonumber(threads)
end

-- The next request's number, its client address and the index (0-based) of its brand among `brands`.
function next_client(brands)
  local n = offset + k * stride + thread_id
  k = k + 1
  local network, host = n % 512, math.floor(n / 512)
  local address = string.format("198.%d.%d.%d", 18 + math.floor(network / 256), network % 256, host % 256)
  return n, address, host % brands
end

-- Grades in about the shares of bench/run.py (2% 1, 3% 2, 7% 3, 23% 4, 65% 5), rater groups 12:5:3.
function grade_of(n)
  local r = (n * 37) % 100
  if r < 2 then return 1 elseif r < 5 then return 2 elseif r < 12 then return 3 elseif r < 35 then return 4 end
  return 5
end

local groups = { "masses", "masses", "masses", "member", "masses", "sub_org", "masses", "member", "masses",
  "masses", "member", "masses", "sub_org", "masses", "masses", "member", "masses", "sub_org", "masses", "member" }

function group_of(n)
  return groups[(math.floor(n / 7) % #groups) + 1]
end
