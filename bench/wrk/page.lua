-- (d) A page, GET: the URL (and a Cookie header with -H for a logged-in page) are wrk's own arguments;
-- this script only counts the status codes and prints the figures (report.lua).
--   wrk -s bench/wrk/page.lua -H "Cookie: sessionid=..." http://127.0.0.1:8107/dashboard/

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
