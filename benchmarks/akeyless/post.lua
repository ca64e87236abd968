-- wrk script: POST one fixed body, with headers taken from the environment so the same script
-- drives the Akeyless emulator, moto's Secrets Manager and the floor server.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or "{}"
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
local target = os.getenv("WRK_AMZ_TARGET")
if target and target ~= "" then
  wrk.headers["X-Amz-Target"] = target
end
local auth = os.getenv("WRK_AUTHORIZATION")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
