#!/usr/bin/env python
"""Same as the `xinfang` command."""

from xinfang.cli import main

if __name__ == "__main__":
    main()
