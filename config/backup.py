"""Back up and restore the database and the uploaded media (``make backup``, ``make restore FROM=…``).

A backup is a directory ``<BACKUP_DIR>/<timestamp>/`` holding ``database.dump`` (``pg_dump -Fc``) on
PostgreSQL or ``database.sqlite3`` (SQLite's online backup API) without DATABASE_URL, and ``media.tar.gz``
(MEDIA_ROOT). Restoring replaces the database's contents with the dump's and puts the archived files back
into MEDIA_ROOT (files added since stay, unreferenced: they are not served, see config.views.media).

    python -m config.backup backup [--to DIR]
    python -m config.backup restore DIR
"""

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_ARCHIVE = "media.tar.gz"


def _pg_command(program: str, database: dict) -> tuple[list[str], dict]:
    """The libpq program and its environment for Django's connection settings (no password on the
    command line, where other users could read it)."""
    binary = shutil.which(program)
    if binary is None:
        raise SystemExit(f"{program} not found: apt-get install -y postgresql-client")
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[variable] = str(database[key])
    return [binary, "--dbname", database["NAME"]], env


def _is_postgresql(database: dict) -> bool:
    return database["ENGINE"] == "django.db.backends.postgresql"


def backup(*, database: dict, connection, media_root: Path, target: Path) -> Path:
    """Write the database and the media into ``target`` (created); returns it."""
    target.mkdir(parents=True, exist_ok=False)
    try:
        if _is_postgresql(database):
            command, env = _pg_command("pg_dump", database)
            _run([*command, "--format=custom", "--file", str(target / PG_DUMP)], env=env)
        else:
            import sqlite3

            connection.ensure_connection()
            with sqlite3.connect(target / SQLITE_COPY) as copy:
                connection.connection.backup(copy)  # a consistent snapshot, even while others write
            copy.close()
        with tarfile.open(target / MEDIA_ARCHIVE, "w:gz") as archive:
            if media_root.exists():
                archive.add(media_root, arcname=".")
    except BaseException:
        shutil.rmtree(target)  # no half backup that a later restore could take for a whole one
        raise
    return target


def _run(command: list[str], *, env: dict) -> None:
    result = subprocess.run(command, env=env, stderr=subprocess.PIPE, text=True)
    if result.returncode:
        raise SystemExit(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def restore(*, database: dict, connection, media_root: Path, source: Path) -> None:
    """Replace the database's contents with the backup's and put its media files back."""
    if _is_postgresql(database):
        dump = source / PG_DUMP
        if not dump.exists():
            raise SystemExit(f"{dump} not found (a PostgreSQL backup has one)")
        connection.close()  # pg_restore --clean drops the tables; a pooled connection must not hold them
        command, env = _pg_command("pg_restore", database)
        options = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"]
        _run([*command, *options, str(dump)], env=env)
    else:
        import sqlite3

        copy_path = source / SQLITE_COPY
        if not copy_path.exists():
            raise SystemExit(f"{copy_path} not found (a SQLite backup has one)")
        connection.ensure_connection()
        with sqlite3.connect(copy_path) as copy:
            copy.backup(connection.connection)
        copy.close()
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_ARCHIVE, "r:gz") as archive:
        archive.extractall(media_root, filter="data")  # no absolute paths, links out or devices


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    parser = argparse.ArgumentParser(prog="python -m config.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write <BACKUP_DIR>/<timestamp>/")
    make.add_argument("--to", type=Path, default=Path(os.environ.get("BACKUP_DIR") or "backups"))
    back = commands.add_parser("restore", help="restore from a backup directory")
    back.add_argument("source", type=Path)
    args = parser.parse_args(argv)
    database = settings.DATABASES["default"]
    media_root = Path(settings.MEDIA_ROOT)
    if args.command == "backup":
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = backup(database=database, connection=connection, media_root=media_root, target=args.to / stamp)
        print(target)
    else:
        restore(database=database, connection=connection, media_root=media_root, source=args.source)
        print(f"restored from {args.source}")


if __name__ == "__main__":
    main(sys.argv[1:])
