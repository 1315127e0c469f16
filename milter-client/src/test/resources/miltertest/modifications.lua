-- End-of-message modifications scripted on milter-test-client's command line (see MiltertestInteropTest).
local function check(result, what)
  if result ~= nil then error(what .. " failed: " .. tostring(result)) end
end

local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
if conn == nil then error "mt.connect() failed" end
check(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
check(mt.mailfrom(conn, "<sender@example.com>"), "mailfrom")
check(mt.rcptto(conn, "<old@example.org>"), "rcptto")
check(mt.header(conn, "Subject", "Hello"), "header")
check(mt.header(conn, "Received", "from somewhere"), "header")
check(mt.eoh(conn), "eoh")
check(mt.bodystring(conn, "Original body\r\n"), "body")
check(mt.eom(conn), "eom")
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom: unexpected reply " .. tostring(mt.getreply(conn))) end
if not mt.eom_check(conn, MT_HDRADD, "X-Added", "yes") then error "no X-Added header" end
if not mt.eom_check(conn, MT_HDRINSERT, "X-First", "1") then error "no X-First header inserted" end
if not mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[TEST] Hello") then error "Subject not changed" end
if not mt.eom_check(conn, MT_HDRDELETE, "Received") then error "Received not deleted" end
if not mt.eom_check(conn, MT_RCPTADD, "<new@example.org>") then error "no recipient added" end
if not mt.eom_check(conn, MT_RCPTDELETE, "<old@example.org>") then error "no recipient deleted" end
if not mt.eom_check(conn, MT_BODYCHANGE, "Replaced body\r\n") then error "body not replaced" end
if not mt.eom_check(conn, MT_QUARANTINE, "held for review") then error "not quarantined" end
check(mt.disconnect(conn), "disconnect")
