#!/bin/sh
# The Docker-free stack: scripts/stack.py (up|down|status|logs [-f]|restart|ctl).
exec "$(dirname "$0")/stack.py" "$@"
