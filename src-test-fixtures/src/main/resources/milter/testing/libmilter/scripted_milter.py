#!/usr/bin/python3
"""A real libmilter milter (through Debian's python3-milter) whose answers are given on the command line.

Run with /usr/bin/python3. Every callback prints one line to stdout:
    EVENT <stage> <details>          (stage: negotiate connect helo envfrom envrcpt data header eoh body
                                      unknown eom abort close)
    MACRO <stage> <name>=<value>     (for the names asked with --macros; <none> when undefined)
    READY                            (once the socket listens)

Arguments (JSON arrays are single arguments):
    --listen SPEC                    libmilter socket spec: inet:PORT@127.0.0.1 or unix:/path
    --actions FLAGS                  actions to request: number or names joined by | (ADDHDRS|CHGBODY|...);
                                     masked with what the MTA offers; default: everything offered
    --protocol FLAGS                 protocol flags to request: number or P_ names without prefix (NOBODY|NR_HDR|SKIP)
    --symlist '["connect", "j", "{daemon_name}"]'   macro list for a stage (needs SETSYMLIST)
    --macros  '["connect", "j", "{daemon_name}"]'   macros to print at a stage
    --reply   '["STAGE", ACTION...]' answer at a stage; STAGE#N applies to the Nth call only. ACTION:
              continue accept reject tempfail discard skip noreply, or reply CODE XCODE TEXT [MORE LINES...];
              STAGE@N applies to the Nth call counted over all connections (sequential tests);
              envrcpt=ADDRESS applies to that recipient only (without angle brackets, lower case)
    --eom     '["OP", ARGS...]'      done in order at end of message before answering: addheader NAME VALUE,
              insheader INDEX NAME VALUE, chgheader NAME INDEX VALUE, addrcpt ADDR [PARAMS], delrcpt ADDR,
              chgfrom ADDR [PARAMS], replacebody TEXT, replacebody-bytes COUNT, quarantine REASON, progress,
              sleep SECONDS
"""

import argparse
import json
import sys
import threading
import time

import Milter
import milter

STAGES = ("connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "unknown", "eom")
MACRO_STAGES = {"connect": Milter.M_CONNECT, "helo": Milter.M_HELO, "envfrom": Milter.M_ENVFROM,
                "envrcpt": Milter.M_ENVRCPT, "data": Milter.M_DATA, "eom": Milter.M_EOM, "eoh": Milter.M_EOH}
NO_REPLY_FLAGS = (Milter.P_NR_CONN | Milter.P_NR_HELO | Milter.P_NR_MAIL | Milter.P_NR_RCPT | Milter.P_NR_DATA
                  | Milter.P_NR_UNKN | Milter.P_NR_EOH | Milter.P_NR_BODY | Milter.P_NR_HDR)
RESULTS = {"continue": Milter.CONTINUE, "accept": Milter.ACCEPT, "reject": Milter.REJECT,
           "tempfail": Milter.TEMPFAIL, "discard": Milter.DISCARD, "skip": Milter.SKIP,
           "noreply": Milter.NOREPLY}

OUTPUT_LOCK = threading.Lock()
CALLS_LOCK = threading.Lock()
GLOBAL_CALLS = {}


def emit(*parts):
    line = " ".join(str(part) for part in parts)
    with OUTPUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def parse_flags(text, prefix):
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    value = 0
    for name in text.split("|"):
        name = name.strip()
        if not name:
            continue
        attribute = name if hasattr(milter, name) and not prefix else prefix + name
        if not hasattr(milter, attribute):
            raise SystemExit("unknown flag: " + name)
        value |= getattr(milter, attribute)
    return value


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="scripted libmilter milter")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--name", default="scripted-milter")
    parser.add_argument("--actions")
    parser.add_argument("--protocol")
    parser.add_argument("--symlist", action="append", default=[])
    parser.add_argument("--macros", action="append", default=[])
    parser.add_argument("--reply", action="append", default=[])
    parser.add_argument("--eom", action="append", default=[])
    arguments = parser.parse_args(argv)
    config = {
        "listen": arguments.listen,
        "name": arguments.name,
        "actions": parse_flags(arguments.actions, ""),
        "protocol": parse_flags(arguments.protocol, "P_") or 0,
        "symlists": [json.loads(item) for item in arguments.symlist],
        "macros": {},
        "replies": {},
        "eom": [json.loads(item) for item in arguments.eom],
    }
    for item in arguments.macros:
        names = json.loads(item)
        config["macros"].setdefault(names[0], []).extend(names[1:])
    for item in arguments.reply:
        answer = json.loads(item)
        config["replies"][answer[0]] = answer[1:]
    return config


CONFIG = None


class ScriptedMilter(Milter.Base):
    def __init__(self):
        self.calls = {}

    def negotiate(self, opts):
        offered_actions, offered_protocol = opts[0], opts[1]
        emit("EVENT", "negotiate", "actions=0x%x" % offered_actions, "protocol=0x%x" % offered_protocol)
        wanted = CONFIG["actions"]
        self._actions = offered_actions if wanted is None else wanted & offered_actions
        for symlist in CONFIG["symlists"]:
            # Milter.Base.setsymlist hands bytes to a C function that wants str; call it directly.
            self._ctx.setsymlist(MACRO_STAGES[symlist[0]], " ".join(symlist[1:]))
        requested = CONFIG["protocol"]
        # libmilter answers continue itself for no-reply steps the MTA cannot skip; other bits must be offered.
        protocol = (requested & offered_protocol) | (requested & NO_REPLY_FLAGS)
        opts[0] = self._actions
        opts[1] = self._protocol = protocol
        opts[2] = 0
        opts[3] = 0
        return Milter.CONTINUE

    def answer(self, stage, argument=None):
        count = self.calls.get(stage, 0) + 1
        self.calls[stage] = count
        with CALLS_LOCK:
            total = GLOBAL_CALLS.get(stage, 0) + 1
            GLOBAL_CALLS[stage] = total
        for name in CONFIG["macros"].get(stage, []):
            value = self.getsymval(name)
            emit("MACRO", stage, "%s=%s" % (name, "<none>" if value is None else value))
        replies = CONFIG["replies"]
        action = ((argument is not None and replies.get("%s=%s" % (stage, argument.lower())))
                  or replies.get("%s@%d" % (stage, total)) or replies.get("%s#%d" % (stage, count))
                  or replies.get(stage) or ["continue"])
        if action[0] == "reply":
            self.setreply(action[1], action[2] or None, action[3] if len(action) > 3 else None, *action[4:])
            return Milter.TEMPFAIL if action[1].startswith("4") else Milter.REJECT
        return RESULTS[action[0]]

    def connect(self, hostname, family, hostaddr):
        emit("EVENT", "connect", hostname, family, hostaddr)
        return self.answer("connect")

    def hello(self, hostname):
        emit("EVENT", "helo", hostname)
        return self.answer("helo")

    def envfrom(self, sender, *parameters):
        emit("EVENT", "envfrom", sender, *parameters)
        return self.answer("envfrom")

    def envrcpt(self, recipient, *parameters):
        emit("EVENT", "envrcpt", recipient, *parameters)
        return self.answer("envrcpt", recipient.strip("<>"))

    def data(self):
        emit("EVENT", "data")
        return self.answer("data")

    def header(self, name, value):
        emit("EVENT", "header", "%s=%s" % (name, json.dumps(value)))
        return self.answer("header")

    def eoh(self):
        emit("EVENT", "eoh")
        return self.answer("eoh")

    def body(self, chunk):
        emit("EVENT", "body", len(chunk))
        return self.answer("body")

    def unknown(self, command):
        emit("EVENT", "unknown", command)
        return self.answer("unknown")

    def eom(self):
        emit("EVENT", "eom")
        for operation in CONFIG["eom"]:
            self.modify(operation)
        return self.answer("eom")

    def modify(self, operation):
        name, args = operation[0], operation[1:]
        if name == "addheader":
            self.addheader(args[0], args[1])
        elif name == "insheader":
            self.addheader(args[1], args[2], int(args[0]))
        elif name == "chgheader":
            self.chgheader(args[0], int(args[1]), args[2])
        elif name == "addrcpt":
            self.addrcpt(args[0], args[1] if len(args) > 1 else None)
        elif name == "delrcpt":
            self.delrcpt(args[0])
        elif name == "chgfrom":
            self.chgfrom(args[0], args[1] if len(args) > 1 else None)
        elif name == "replacebody":
            self.replacebody(args[0].encode("utf-8"))
        elif name == "replacebody-bytes":
            self.replacebody(bytes(ord("a") + i % 26 for i in range(int(args[0]))))
        elif name == "quarantine":
            self.quarantine(args[0])
        elif name == "progress":
            self.progress()
        elif name == "sleep":
            time.sleep(float(args[0]))
        else:
            raise ValueError("unknown end-of-message operation: " + name)

    def abort(self):
        emit("EVENT", "abort")
        return Milter.CONTINUE

    def close(self):
        emit("EVENT", "close")
        return Milter.CONTINUE


def main():
    global CONFIG
    sys.stdout.reconfigure(errors="backslashreplace")
    CONFIG = parse_arguments(sys.argv[1:])
    Milter.factory = ScriptedMilter
    open_socket = milter.opensocket

    def announce(remove):
        result = open_socket(remove)
        emit("READY")
        return result

    milter.opensocket = announce
    Milter.runmilter(CONFIG["name"], CONFIG["listen"], 60)


if __name__ == "__main__":
    main()
