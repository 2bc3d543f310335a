-- (c) The rating form: POST /b/<code>/rate/ as a browser sends it after showing the form.
--   wrk -s bench/wrk/form.lua http://127.0.0.1:8107 -- <forms file> <brand codes file> <offset> <threads> \
--       <csrf cookie> <csrf token>
-- A browser brings three things from its GET of the form: the CSRF cookie and token (one pair from a
-- real GET, passed as arguments: Django accepts any masked token of the cookie's secret), the signed
-- `started` token of the form and the signed device cookie. The forms file holds the last two, one form
-- per line ("<rater_device cookie>\t<started, URL-encoded>"), made by bench/submit.py with the app's
-- own functions (integrity.form_token, Django's signed cookies) before the run, so each form is at
-- least a few seconds old (faster ones are held as "too fast") and each rating has its own device.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
dofile(here .. "clients.lua")

local forms, brands, csrf_cookie, csrf_token

function init(args)
  forms, brands = lines(args[1]), lines(args[2])
  clients_init(args[3], args[4])
  csrf_cookie, csrf_token = args[5], args[6]
end

function request()
  local n, address, brand = next_client(#brands)
  local device, started = forms[(n % #forms) + 1]:match("([^\t]+)\t([^\t]+)")
  local body = string.format(
    "csrfmiddlewaretoken=%s&overall=%d&rater_group=%s&comment=&contact=&code=&website=&started=%s&altcha=",
    csrf_token, grade_of(n), group_of(n), started
  )
  return wrk.format("POST", "/b/" .. brands[brand + 1] .. "/rate/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf_cookie .. "; rater_device=" .. device,
    ["Origin"] = "http://" .. wrk.host .. ":" .. wrk.port,
    ["X-Forwarded-For"] = address,
  }, body)
end
