#!/usr/bin/env python3
"""vLLM's toy-proxy calls from the command line: baton_e2e.pd_proxy's (see its docstring)."""
import sys

from baton_e2e.pd_proxy import main

if __name__ == "__main__":
    sys.exit(main())
