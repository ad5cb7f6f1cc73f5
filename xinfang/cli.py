"""The `xinfang` command: Django's manage.py under the project's own name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    if args[:1] == ["serve"]:  # the production server: refuses an unsafe configuration
        os.environ.setdefault("XINFANG_PROFILE", "production")
    # What the command creates (the SQLite database, var/secret_key, attachments, exports,
    # the cache) is readable by this user only: files 0600, folders 0700.
    os.umask(0o077)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xinfang", *args])


if __name__ == "__main__":
    main()
