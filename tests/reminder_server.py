"""An API process with its reminder worker, as a replica runs it, for the test that runs two on one database.

Run: python -m tests.reminder_server DATABASE_URL PORT, with COMMONS_SMTP_* and COMMONS_REMINDER_SECRET in the
environment.
"""

import sys

import uvicorn

from api.app import create_app


def main() -> None:
    database_url, port = sys.argv[1:3]
    app = create_app(database_url, upgrade_schema=False, run_hooks=False, run_reminders=True)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
