#!/usr/bin/env python3
"""Chaos for `baton router`: baton_e2e.chaos_router's (see its docstring for what it checks)."""
import sys

from baton_e2e.chaos_router import main

if __name__ == "__main__":
    sys.exit(main())
