"""Staff accounts: authentication and sessions (:mod:`.auth`), the login, logout and
privacy pages (:mod:`.views`) and the ``flask users`` commands (:mod:`.users_cli`)."""
