-- Every stage against milter-test-client with its default script (continue everywhere).
-- Run as: miltertest -D port=PORT -s stages.lua
local function check(result, what)
  if result ~= nil then error(what .. " failed: " .. tostring(result)) end
end
local function expect(conn, reply, what)
  if mt.getreply(conn) ~= reply then error(what .. ": unexpected reply " .. tostring(mt.getreply(conn))) end
end

local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
if conn == nil then error "mt.connect() failed" end
check(mt.negotiate(conn, 6, nil, nil), "negotiate")
mt.macro(conn, SMFIC_CONNECT, "j", "mx.example.com", "{daemon_name}", "smtpd")
check(mt.conninfo(conn, "client.example.net", "192.0.2.10"), "conninfo")
expect(conn, SMFIR_CONTINUE, "connect")
check(mt.helo(conn, "client.example.net"), "helo")
expect(conn, SMFIR_CONTINUE, "helo")
check(mt.unknown(conn, "HELP"), "unknown")
expect(conn, SMFIR_CONTINUE, "unknown")

-- First message, aborted after the recipient (and aborted twice: the second abort must be harmless).
mt.macro(conn, SMFIC_MAIL, "i", "QID1")
check(mt.mailfrom(conn, "<sender@example.com>", "SIZE=100"), "mailfrom")
expect(conn, SMFIR_CONTINUE, "mailfrom")
check(mt.rcptto(conn, "<rcpt@example.org>"), "rcptto")
expect(conn, SMFIR_CONTINUE, "rcptto")
check(mt.abort(conn), "abort")
check(mt.abort(conn), "second abort")

-- Second message, complete.
check(mt.mailfrom(conn, "<sender@example.com>"), "mailfrom 2")
expect(conn, SMFIR_CONTINUE, "mailfrom 2")
check(mt.rcptto(conn, "<rcpt@example.org>"), "rcptto 2")
expect(conn, SMFIR_CONTINUE, "rcptto 2")
check(mt.data(conn), "data")
expect(conn, SMFIR_CONTINUE, "data")
check(mt.header(conn, "From", "sender@example.com"), "header From")
expect(conn, SMFIR_CONTINUE, "header From")
check(mt.header(conn, "Subject", "Test"), "header Subject")
expect(conn, SMFIR_CONTINUE, "header Subject")
check(mt.eoh(conn), "eoh")
expect(conn, SMFIR_CONTINUE, "eoh")
check(mt.bodystring(conn, "Hello, world!\r\n"), "body")
expect(conn, SMFIR_CONTINUE, "body")
check(mt.bodyrandom(conn, 100000), "random body")
expect(conn, SMFIR_CONTINUE, "random body")
check(mt.eom(conn), "eom")
expect(conn, SMFIR_CONTINUE, "eom")
if mt.eom_check(conn, MT_HDRADD) then error "unexpected header added" end

-- Third message on the same connection.
check(mt.mailfrom(conn, "<other@example.com>"), "mailfrom 3")
expect(conn, SMFIR_CONTINUE, "mailfrom 3")
check(mt.rcptto(conn, "<rcpt@example.org>"), "rcptto 3")
check(mt.eom(conn), "eom 3")
expect(conn, SMFIR_CONTINUE, "eom 3")
check(mt.disconnect(conn), "disconnect")
