# The Ruby side of milter-manager.conf: what the configuration files see.
# Loaded once into the manager's JRuby runtime.

require "java"
require "rbconfig"
require "ipaddr"
require "set"
require "shellwords"

require "milter/logger"
require "milter/socket-address"
require "milter/event-loop"
require "milter/manager/errors"
require "milter/manager/configuration"
require "milter/manager/mail-transaction-shelf"
require "milter/manager/connection-check-context"
require "milter/manager/address-matcher"
require "milter/manager/breaker"
require "milter/manager/dnsbl"
require "milter/manager/policy"
require "milter/manager/detector"
require "milter/manager/configuration-loader"
