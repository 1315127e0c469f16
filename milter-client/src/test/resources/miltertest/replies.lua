-- Scripted replies: reject and reply codes per stage (see MiltertestInteropTest for the tool's options).
local function check(result, what)
  if result ~= nil then error(what .. " failed: " .. tostring(result)) end
end
local function expect(conn, reply, what)
  if mt.getreply(conn) ~= reply then error(what .. ": unexpected reply " .. tostring(mt.getreply(conn))) end
end

local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
if conn == nil then error "mt.connect() failed" end
check(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
expect(conn, SMFIR_CONTINUE, "connect")
check(mt.helo(conn, "client.example.net"), "helo")
expect(conn, SMFIR_CONTINUE, "helo")
check(mt.mailfrom(conn, "<sender@example.com>"), "mailfrom")
expect(conn, SMFIR_CONTINUE, "mailfrom")
check(mt.rcptto(conn, "<bad@example.org>"), "rcptto bad")
expect(conn, SMFIR_REJECT, "rcptto bad")
check(mt.rcptto(conn, "<later@example.org>"), "rcptto later")
expect(conn, SMFIR_REPLYCODE, "rcptto later")
check(mt.rcptto(conn, "<good@example.org>"), "rcptto good")
expect(conn, SMFIR_CONTINUE, "rcptto good")
check(mt.header(conn, "Subject", "spam"), "header")
expect(conn, SMFIR_CONTINUE, "header")
check(mt.eoh(conn), "eoh")
expect(conn, SMFIR_CONTINUE, "eoh")
check(mt.bodystring(conn, "body\r\n"), "body")
expect(conn, SMFIR_CONTINUE, "body")
check(mt.eom(conn), "eom")
expect(conn, SMFIR_REPLYCODE, "eom")
if not mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.1", "Message refused") then error "wrong EOM reply code" end
check(mt.disconnect(conn), "disconnect")
