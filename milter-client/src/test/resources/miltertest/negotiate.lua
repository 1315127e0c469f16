-- Negotiated skip and no-reply flags (milter-test-client --negotiate-flags=no-helo|no-reply-header|no-unknown).
local function check(result, what)
  if result ~= nil then error(what .. " failed: " .. tostring(result)) end
end

local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
if conn == nil then error "mt.connect() failed" end
check(mt.negotiate(conn, 6, nil, nil), "negotiate")
if not mt.test_option(conn, SMFIP_NOHELO) then error "no-helo not negotiated" end
if not mt.test_option(conn, SMFIP_NOUNKNOWN) then error "no-unknown not negotiated" end
if not mt.test_option(conn, SMFIP_NR_HDR) then error "no-reply-header not negotiated" end
if mt.test_option(conn, SMFIP_NOBODY) then error "no-body negotiated unexpectedly" end
if not mt.test_action(conn, SMFIF_ADDHDRS) then error "add-headers not granted" end
check(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
check(mt.mailfrom(conn, "<sender@example.com>"), "mailfrom")
check(mt.rcptto(conn, "<rcpt@example.org>"), "rcptto")
-- No reply is read for headers: the next reply must be the end-of-header one.
check(mt.header(conn, "Subject", "one"), "header 1")
check(mt.header(conn, "X-Two", "two"), "header 2")
check(mt.eoh(conn), "eoh")
if mt.getreply(conn) ~= SMFIR_CONTINUE then error "eoh: unexpected reply" end
check(mt.eom(conn), "eom")
if mt.getreply(conn) ~= SMFIR_CONTINUE then error "eom: unexpected reply" end
check(mt.disconnect(conn), "disconnect")
